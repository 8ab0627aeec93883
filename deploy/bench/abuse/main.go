// Command abuse is the bench behind `make bench-abuse`: it attacks a site
// the way a stranger cheaply could and reports the site's peak memory.
//
// It starts a throw-away PostgreSQL, runs the site binary as a child, and
// then, one after the other, for -duration each with -attackers
// concurrent clients:
//
//   - login: failed sign-ins (a CSRF token per client, unknown e-mails and a
//     known one with wrong passwords), each one an argon2id check;
//   - body: anonymous POSTs of 10 MB bodies to the contact form, the
//     sign-in form and a path that does not exist, declared or chunked;
//   - upload: a signed-in caseworker uploading the photos that cost most
//     to decode: 40-megapixel PNGs in 16 and 8 bits and a 40-megapixel
//     JPEG, each a few hundred kilobytes.
//
// Meanwhile a probe fetches a country page every 100 ms. For each attack it
// prints the site's peak RSS (sampled every 20 ms from /proc), the probe's
// p50, p99 and failures, and the attackers' status codes. Target: peak RSS
// under 300 MB, and the country page keeps answering.
//
// Usage: bash deploy/bench/abuse.sh [-bin var/bin/familylinks] [-attackers 100] [-duration 15s]
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
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/familylinks/familylinks/internal/devstack"
)

func main() {
	bin := flag.String("bin", "var/bin/familylinks", "the site binary")
	attackers := flag.Int("attackers", 100, "concurrent attackers per attack")
	duration := flag.Duration("duration", 15*time.Second, "length of each attack")
	only := flag.String("only", "", "run only this attack (login, body, upload)")
	flag.Parse()
	if err := run(*bin, *attackers, *duration, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench-abuse:", err)
		os.Exit(1)
	}
}

const password = "bench password of the caseworker"

func run(bin string, attackers int, duration time.Duration, only string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "bench-abuse-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o755); err != nil { // the postgres user needs to get through
		return err
	}
	ctx := context.Background()
	stack, err := devstack.Start(ctx, devstack.Options{Dir: work, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SkipMeili: true})
	if err != nil {
		return fmt.Errorf("starting PostgreSQL: %w", err)
	}
	defer stack.Stop()

	port, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	base := "http://" + addr
	env := append(benchkit.WithoutFamilyLinksEnv(), "DATABASE_URL="+stack.DatabaseURL, "FAMILYLINKS_AUTO_MIGRATE=true",
		"FAMILYLINKS_ADDR="+addr, "FAMILYLINKS_LOG_LEVEL=error")
	env, _, err = benchkit.WithKeys(bin, work, env)
	if err != nil {
		return err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "migrate"); err != nil {
		return err
	}
	if _, err := benchkit.Tool(bin, work, env, password+"\n", "staff", "add", "--email", "bench@drk.example", "--society", "de", "--role", "caseworker", "--password-stdin"); err != nil {
		return err
	}
	logPath := filepath.Join(work, "site.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fmt.Printf("bench-abuse: %s, %d attackers, %s each, a fresh site process for each attack\n\n", bin, attackers, duration)
	fmt.Printf("%-8s %9s %10s %12s %12s %9s  %s\n", "attack", "idle RSS", "peak RSS", "country p50", "country p99", "failures", "attackers' answers")

	photos := [][]byte{bigPNG(16), bigPNG(8), bigJPEG()}
	attacks := []struct {
		name string
		hit  func(c *http.Client, i int) (int, error)
		prep func(c *http.Client) error
	}{
		// Uploads first: the sign-in flood leaves this address throttled.
		{"upload", uploadAttack(base, photos...), signIn(base)},
		{"body", bodyAttack(base), nil},
		{"login", loginAttack(base), nil},
	}
	for _, a := range attacks {
		if only != "" && a.name != only {
			continue
		}
		site, err := benchkit.StartSite(bin, env, work, logFile)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = benchkit.WaitHealthy(wctx, site, base, 10*time.Millisecond)
		cancel()
		if err != nil {
			site.Stop()
			return fmt.Errorf("the site did not start: %w%s", err, benchkit.Tail(logPath))
		}
		pid := site.Cmd.Process.Pid
		time.Sleep(time.Second)
		idle := rss(pid)
		var peak atomic.Int64
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			for {
				if r := rss(pid); r > peak.Load() {
					peak.Store(r)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		var probe []time.Duration
		var probeFail int
		sampler.Go(func() {
			c := &http.Client{Timeout: 10 * time.Second}
			for {
				t0 := time.Now()
				res, err := c.Get(base + "/en/countries/de")
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil || res.StatusCode != 200 {
					probeFail++
				} else {
					probe = append(probe, time.Since(t0))
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		})
		var mu sync.Mutex
		codes := map[string]int{}
		deadline := time.Now().Add(duration)
		var wg sync.WaitGroup
		for i := range attackers {
			wg.Go(func() {
				jar, _ := cookiejar.New(nil)
				c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				if a.prep != nil {
					if err := a.prep(c); err != nil {
						mu.Lock()
						codes["sign-in failed"]++
						mu.Unlock()
						return
					}
				}
				for n := 0; time.Now().Before(deadline); n++ {
					code, err := a.hit(c, i*1_000_000+n)
					k := strconv.Itoa(code)
					if err != nil {
						k = "error(" + errKind(err) + ")"
					}
					mu.Lock()
					codes[k]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(stop)
		sampler.Wait()
		slices.Sort(probe)
		fmt.Printf("%-8s %6d MB %7d MB %12s %12s %9d  %s\n", a.name, idle>>20, peak.Load()>>20, pct(probe, 50), pct(probe, 99), probeFail, fmtCodes(codes))
		died := site.Exited()
		site.Stop()
		if died {
			return fmt.Errorf("the site died during %s%s", a.name, benchkit.Tail(logPath))
		}
	}
	return nil
}

// rss is the resident set size of process pid in bytes (0 if unreadable).
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// token GETs path and returns its form's CSRF token.
func token(c *http.Client, u string) (string, error) {
	res, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("no CSRF token at %s (%d)", u, res.StatusCode)
	}
	return string(m[1]), nil
}

func post(c *http.Client, u, ctype string, body io.Reader, length int64) (int, error) {
	req, err := http.NewRequest("POST", u, body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", ctype)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

func loginAttack(base string) func(*http.Client, int) (int, error) {
	return func(c *http.Client, n int) (int, error) {
		tok, err := token(c, base+"/staff/login")
		if err != nil {
			return 0, err
		}
		email := fmt.Sprintf("nobody%d@example.org", n)
		if n%4 == 0 {
			email = "bench@drk.example"
		}
		form := url.Values{"_csrf": {tok}, "email": {email}, "password": {"wrong password " + strconv.Itoa(n)}}.Encode()
		return post(c, base+"/staff/login", "application/x-www-form-urlencoded", strings.NewReader(form), int64(len(form)))
	}
}

func bodyAttack(base string) func(*http.Client, int) (int, error) {
	body := bytes.Repeat([]byte("a"), 10<<20)
	paths := []string{"/en/contact", "/staff/login", "/en/nowhere"}
	return func(c *http.Client, n int) (int, error) {
		length := int64(len(body))
		var r io.Reader = bytes.NewReader(body)
		if n%2 == 1 {
			length, r = -1, io.MultiReader(r) // unknown length: sent chunked
		}
		return post(c, base+paths[n%len(paths)], "application/x-www-form-urlencoded", r, length)
	}
}

// signIn signs one client in and gives every attacker its session (as
// many signed-in sign-ins at once would be throttled, rightly).
func signIn(base string) func(c *http.Client) error {
	var once sync.Once
	var jar http.CookieJar
	var err error
	return func(c *http.Client) error {
		once.Do(func() {
			jar, _ = cookiejar.New(nil)
			err = signInOnce(&http.Client{Jar: jar, CheckRedirect: c.CheckRedirect}, base)
		})
		c.Jar = jar
		return err
	}
}

func signInOnce(c *http.Client, base string) error {
	tok, err := token(c, base+"/staff/login")
	if err != nil {
		return err
	}
	form := url.Values{"_csrf": {tok}, "email": {"bench@drk.example"}, "password": {password}}.Encode()
	code, err := post(c, base+"/staff/login", "application/x-www-form-urlencoded", strings.NewReader(form), int64(len(form)))
	if err != nil {
		return err
	}
	if code != http.StatusSeeOther {
		return fmt.Errorf("sign-in: %d", code)
	}
	return nil
}

func uploadAttack(base string, photos ...[]byte) func(*http.Client, int) (int, error) {
	return func(c *http.Client, n int) (int, error) {
		tok, err := token(c, base+"/staff/gallery/new")
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
		return post(c, base+"/staff/gallery", mw.FormDataContentType(), &buf, int64(buf.Len()))
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
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(kind), data...)
		b.Write(c)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, 6
	chunk("IHDR", ihdr)
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

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	return benchkit.MS(d[min(len(d)-1, len(d)*p/100)], 1)
}

func fmtCodes(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// errKind names a client error briefly: a reset, a timeout, a closed
// connection.
func errKind(err error) string {
	msg := err.Error()
	for _, k := range []string{"reset", "timeout", "EOF", "broken pipe", "refused"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	if len(msg) > 60 {
		msg = msg[len(msg)-60:]
	}
	return msg
}
