// Command abuse is the bench behind `make bench-abuse`: it attacks a site
// the way a stranger cheaply could and reports the site's peak memory.
//
// One after the other, against a fresh site process each, for -duration
// with -attackers concurrent clients:
//
//   - upload: a signed-in caseworker uploading the photos that cost most to
//     decode: 40-megapixel PNGs in 16 and 8 bits and a 40-megapixel JPEG,
//     each a few hundred kilobytes;
//   - body: anonymous POSTs of 10 MB bodies to the contact form, the sign-in
//     form and a path that does not exist, declared or chunked;
//   - login: failed sign-ins (a CSRF token per client, unknown e-mails and a
//     known one with wrong passwords), each one an argon2id check.
//
// Meanwhile a probe fetches a country page every 100 ms. For each attack it
// prints the site's peak RSS (sampled every 20 ms from /proc), the probe's
// p50, p99 and failures, and the attackers' status codes. Target: peak RSS
// under 300 MB, and the country page keeps answering.
//
// Usage: bash deploy/bench/abuse.sh [-bin var/bin/familylinks] [-attackers 100] [-duration 15s] [-only login|body|upload]
package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/familylinks/familylinks/deploy/bench/benchkit"
)

var (
	attackers = flag.Int("attackers", 100, "concurrent attackers per attack")
	duration  = flag.Duration("duration", 15*time.Second, "length of each attack")
	only      = flag.String("only", "", "run only this attack (login, body, upload)")
)

const password = "bench password of the caseworker"

// attack is one kind of abuse: hit sends request n, signed in if signIn.
type attack struct {
	name   string
	hit    func(ctx context.Context, c *http.Client, n int) (int, error)
	signIn bool
}

func main() {
	flag.Parse()
	benchkit.Main(benchkit.Options{Name: "bench-abuse", Env: []string{"FAMILYLINKS_AUTO_MIGRATE=true", "FAMILYLINKS_LOG_LEVEL=error"}}, run)
}

func run(ctx context.Context, b *benchkit.Bench) (int, error) {
	if err := b.AddStaff("bench@drk.example", "caseworker", password); err != nil {
		return 2, err
	}
	fmt.Printf("bench-abuse: %s, %d attackers, %s each, a fresh site process for each attack\n\n", b.Bin, *attackers, *duration)
	fmt.Printf("%-8s %9s %10s %12s %12s %9s  %s\n", "attack", "idle RSS", "peak RSS", "country p50", "country p99", "failures", "attackers' answers")
	for _, a := range []attack{ // uploads first: the sign-in flood leaves this address throttled
		{"upload", upload(b.Base, bigPNG(16), bigPNG(8), bigJPEG()), true},
		{"body", body(b.Base), false},
		{"login", login(b.Base), false},
	} {
		if *only == "" || *only == a.name {
			if err := measure(ctx, b, a); err != nil {
				return 2, err
			}
		}
	}
	return 0, ctx.Err()
}

// measure runs one attack against a fresh site process and prints its line.
func measure(ctx context.Context, b *benchkit.Bench, a attack) error {
	site, err := b.StartSite(ctx)
	if err != nil {
		return err
	}
	defer site.Stop()
	time.Sleep(time.Second)
	pid := site.Cmd.Process.Pid
	idle, peak := benchkit.RSS(pid), atomic.Int64{}
	var jar http.CookieJar // the attackers' session, if signed in: after the idle RSS
	if a.signIn {
		if jar, err = signIn(ctx, b.Base); err != nil {
			return err
		}
	}
	probe, probeFail := &benchkit.Latencies{}, 0
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		benchkit.Every(sctx, 20*time.Millisecond, func() { peak.Store(max(peak.Load(), benchkit.RSS(pid))) })
	})
	wg.Go(func() {
		c := &http.Client{Timeout: 10 * time.Second}
		benchkit.Every(sctx, 100*time.Millisecond, func() {
			if resp, _, d, err := benchkit.Get(ctx, c, b.Base+"/en/countries/de"); err != nil || resp.StatusCode != http.StatusOK {
				probeFail++
			} else {
				probe.Add(d)
			}
		})
	})
	var mu sync.Mutex
	codes := map[string]int{}
	count := func(k string) { mu.Lock(); codes[k]++; mu.Unlock() }
	deadline := time.Now().Add(*duration)
	var hits sync.WaitGroup
	for i := range *attackers {
		hits.Go(func() {
			c := benchkit.Client(nil, 30*time.Second)
			if jar != nil {
				c.Jar = jar
			}
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				code, err := a.hit(ctx, c, i*1_000_000+n)
				k := strconv.Itoa(code)
				if err != nil {
					_, what := benchkit.Classify(err)
					k = "error(" + what + ")"
				}
				count(k)
			}
		})
	}
	hits.Wait()
	stop()
	wg.Wait()
	var answers []string
	for _, k := range slices.Sorted(maps.Keys(codes)) {
		answers = append(answers, fmt.Sprintf("%s×%d", k, codes[k]))
	}
	p50, p99 := "-", "-"
	if probe.N() > 0 {
		p50, p99 = benchkit.MS(probe.Pct(.5), 1), benchkit.MS(probe.Pct(.99), 1)
	}
	fmt.Printf("%-8s %6d MB %7d MB %12s %12s %9d  %s\n", a.name, idle>>20, peak.Load()>>20, p50, p99, probeFail, strings.Join(answers, " "))
	select {
	case <-site.Done:
		return fmt.Errorf("the site died during %s%s", a.name, b.Tail())
	default:
		return nil
	}
}

// post posts body and reads the answer; a body of unknown length (not a
// bytes or strings reader) is sent chunked.
func post(ctx context.Context, c *http.Client, u, ctype string, body io.Reader) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	req.Header.Set("Content-Type", ctype)
	resp, _, _, err := benchkit.Fetch(c, req)
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// postForm posts form, with the CSRF token of the form at u, to u.
func postForm(ctx context.Context, c *http.Client, u string, form url.Values) (int, error) {
	tok, err := benchkit.Token(ctx, c, u)
	if err != nil {
		return 0, err
	}
	form.Set("_csrf", tok)
	return post(ctx, c, u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func login(base string) func(context.Context, *http.Client, int) (int, error) {
	return func(ctx context.Context, c *http.Client, n int) (int, error) {
		email := fmt.Sprintf("nobody%d@example.org", n)
		if n%4 == 0 {
			email = "bench@drk.example"
		}
		return postForm(ctx, c, base+"/staff/login", url.Values{"email": {email}, "password": {"wrong password " + strconv.Itoa(n)}})
	}
}

func body(base string) func(context.Context, *http.Client, int) (int, error) {
	body := bytes.Repeat([]byte("a"), 10<<20)
	paths := []string{"/en/contact", "/staff/login", "/en/nowhere"}
	return func(ctx context.Context, c *http.Client, n int) (int, error) {
		r := io.Reader(bytes.NewReader(body))
		if n%2 == 1 {
			r = io.MultiReader(r) // unknown length: sent chunked
		}
		return post(ctx, c, base+paths[n%len(paths)], "application/x-www-form-urlencoded", r)
	}
}

// signIn signs one client in, whose session every attacker then shares (as
// many sign-ins at once would be throttled, rightly).
func signIn(ctx context.Context, base string) (http.CookieJar, error) {
	c := benchkit.Client(nil, 30*time.Second)
	code, err := postForm(ctx, c, base+"/staff/login", url.Values{"email": {"bench@drk.example"}, "password": {password}})
	if err == nil && code != http.StatusSeeOther {
		err = fmt.Errorf("sign-in: %d", code)
	}
	return c.Jar, err
}

func upload(base string, photos ...[]byte) func(context.Context, *http.Client, int) (int, error) {
	return func(ctx context.Context, c *http.Client, n int) (int, error) {
		tok, err := benchkit.Token(ctx, c, base+"/staff/gallery/new")
		if err != nil {
			return 0, err
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("_csrf", tok)
		fw, _ := mw.CreateFormFile("photo", "p")
		_, _ = fw.Write(photos[n%len(photos)])
		day := time.Now().Format(time.DateOnly)
		for k, v := range map[string]string{"gender": "female", "age_group": "30-44", "seeking": "mother", "origin": "af",
			"case_ref": "BENCH", "consent_date": day, "consent_version": "v1", "consent_by": "bench",
			"review_date": time.Now().AddDate(1, 0, 0).Format(time.DateOnly)} {
			_ = mw.WriteField(k, v)
		}
		_ = mw.Close()
		return post(ctx, c, base+"/staff/gallery", mw.FormDataContentType(), &buf)
	}
}

// bigPNG is a 6400×6250 (40 MP) RGBA PNG of one colour with the given bit
// depth: a few hundred kilobytes on the wire, 160 MB (8-bit) or 320 MB
// (16-bit) once decoded.
func bigPNG(depth byte) []byte {
	const w, h = 6400, 6250
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		c := append([]byte(kind), data...)
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
		b.Write(binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, depth, 6, 0, 0, 0))
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+w*4*int(depth)/8)
	for range h {
		_, _ = zw.Write(row)
	}
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// bigJPEG is a 6400×6250 (40 MP) colour JPEG of one colour: small on the
// wire, 60 MB or more once decoded.
func bigJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 6400, 6250))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 50})
	return b.Bytes()
}
