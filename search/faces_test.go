package search

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/meilisearch/meilisearch-go"
)

// Country names and relationship words in the ten site languages (en, fr, es,
// ar, prs, ps, so, ru, uk, ti), as the caller fills them in.
var (
	testOriginNames = map[string][]string{
		"af": {"Afghanistan", "Afghanistan", "Afganistán", "أفغانستان", "افغانستان", "افغانستان", "Afgaanistaan", "Афганистан", "Афганістан", "ኣፍጋኒስታን"},
		"so": {"Somalia", "Somalie", "Somalia", "الصومال", "سومالیا", "سومالیا", "Soomaaliya", "Сомали", "Сомалі", "ሶማሊያ"},
		"sy": {"Syria", "Syrie", "Siria", "سوريا", "سوریه", "سوریه", "Suuriya", "Сирия", "Сирія", "ሶሪያ"},
		"ua": {"Ukraine", "Ukraine", "Ucrania", "أوكرانيا", "اوکراین", "اوکراین", "Yukrayn", "Украина", "Україна", "ዩክሬን"},
	}
	testSeekingWords = map[string][]string{
		"mother":   {"mother", "mère", "madre", "أم", "مادر", "مور", "hooyo", "мать", "мати", "ኣደ"},
		"father":   {"father", "père", "padre", "أب", "پدر", "پلار", "aabo", "отец", "батько", "ኣቦ"},
		"brother":  {"brother", "frère", "hermano", "أخ", "برادر", "ورور", "walaal", "брат", "брат", "ሓው"},
		"son":      {"son", "fils", "hijo", "ابن", "پسر", "زوی", "wiil", "сын", "син", "ወዲ"},
		"daughter": {"daughter", "fille", "hija", "ابنة", "دختر", "لور", "gabadh", "дочь", "дочка", "ጓል"},
	}
)

func testFace(ref, gender, age, origin string, published int64, seeking ...string) Face {
	f := Face{
		Ref: ref, Gender: gender, AgeGroup: age, Seeking: seeking, Origin: origin,
		OriginNames: testOriginNames[origin],
		Languages:   []string{"en"},
		PublishedAt: published,
	}
	for _, s := range seeking {
		f.SeekingWords = append(f.SeekingWords, testSeekingWords[s]...)
	}
	return f
}

// testFaces is the gallery the search tests run on, oldest first.
func testFaces() []Face {
	return []Face{
		testFace("TTF-7Q4K2", "female", "18-29", "af", 1_700_000_100, "mother", "brother"),
		testFace("TTF-2B8MX", "male", "30-44", "af", 1_700_000_200, "mother"),
		testFace("TTF-9PL3D", "female", "45-59", "so", 1_700_000_300, "son"),
		testFace("TTF-4KR7W", "other", "15-17", "sy", 1_700_000_400, "father", "mother"),
		testFace("TTF-8ZD5N", "female", "60+", "ua", 1_700_000_500, "daughter"),
	}
}

// seededClient returns a client whose faces index holds testFaces.
func seededClient(t *testing.T) *Client {
	t.Helper()
	c := newFacesClient(t)
	if err := c.UpsertFaces(t.Context(), testFaces()); err != nil {
		t.Fatalf("UpsertFaces: %v", err)
	}
	return c
}

func search(t *testing.T, c *Client, q FaceQuery) *FaceResult {
	t.Helper()
	res, err := c.SearchFaces(t.Context(), q)
	if err != nil {
		t.Fatalf("SearchFaces(%+v): %v", q, err)
	}
	return res
}

func refs(hits []Face) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Ref
	}
	return out
}

func sortedRefs(hits []Face) []string {
	out := refs(hits)
	slices.Sort(out)
	return out
}

func TestFacesSettingsDisplayExactlyTheFaceFields(t *testing.T) {
	var tags []string
	ft := reflect.TypeFor[Face]()
	for i := range ft.NumField() {
		tags = append(tags, strings.Split(ft.Field(i).Tag.Get("json"), ",")[0])
	}
	if got := FacesSettings().DisplayedAttributes; !slices.Equal(got, tags) {
		t.Errorf("displayed attributes = %v, want the Face json fields %v", got, tags)
	}
}

func TestEnsureFacesAppliesSettings(t *testing.T) {
	t.Parallel()
	c := newFacesClient(t)
	idx, err := c.ms.GetIndexWithContext(t.Context(), c.FacesIndex())
	if err != nil {
		t.Fatal(err)
	}
	if idx.PrimaryKey != "ref" {
		t.Errorf("primary key = %q, want ref", idx.PrimaryKey)
	}
	got, err := c.faces().GetSettingsWithContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := FacesSettings()
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"searchable", got.SearchableAttributes, want.SearchableAttributes},
		{"displayed", got.DisplayedAttributes, want.DisplayedAttributes},
		{"ranking rules", got.RankingRules, want.RankingRules},
		// Meilisearch returns these as sets, sorted.
		{"filterable", sorted(got.FilterableAttributes), sorted(want.FilterableAttributes)},
		{"sortable", sorted(got.SortableAttributes), []string{"published_at", "ref"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if !slices.Contains(got.DisplayedAttributes, "ref") || slices.Contains(got.DisplayedAttributes, "*") {
		t.Errorf("displayed = %v: must list the public fields, not *", got.DisplayedAttributes)
	}
	if got.TypoTolerance == nil || !reflect.DeepEqual(*got.TypoTolerance, *want.TypoTolerance) {
		t.Errorf("typo tolerance = %+v, want %+v", got.TypoTolerance, want.TypoTolerance)
	}
	if got.TypoTolerance != nil && !got.TypoTolerance.Enabled {
		t.Error("typo tolerance is off")
	}
	if got.Faceting == nil || got.Faceting.MaxValuesPerFacet != 300 {
		t.Errorf("faceting = %+v, want maxValuesPerFacet 300", got.Faceting)
	}
	if got.Pagination == nil || got.Pagination.MaxTotalHits < 100_000 {
		t.Errorf("pagination = %+v, want maxTotalHits ≥ 100000", got.Pagination)
	}
}

func TestEnsureFacesIsIdempotent(t *testing.T) {
	t.Parallel()
	c := newFacesClient(t)
	first, err := c.faces().GetSettingsWithContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpsertFaces(t.Context(), testFaces()[:1]); err != nil {
		t.Fatal(err)
	}

	// A restart of the site runs EnsureFaces again.
	if err := c.EnsureFaces(t.Context()); err != nil {
		t.Fatalf("second EnsureFaces: %v", err)
	}
	second, err := c.faces().GetSettingsWithContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("settings changed on the second EnsureFaces:\nfirst  %+v\nsecond %+v", first, second)
	}
	if res := search(t, c, FaceQuery{}); res.Total != 1 {
		t.Errorf("after the second EnsureFaces the gallery holds %d entries, want 1", res.Total)
	}
}

func TestSearchFacesText(t *testing.T) {
	t.Parallel()
	c := seededClient(t)
	afghans := []string{"TTF-2B8MX", "TTF-7Q4K2"}
	seekingMother := []string{"TTF-2B8MX", "TTF-4KR7W", "TTF-7Q4K2"}
	for _, tc := range []struct {
		name, text string
		want       []string // sorted
	}{
		{"reference", "TTF-7Q4K2", []string{"TTF-7Q4K2"}},
		{"reference in lower case", "ttf-7q4k2", []string{"TTF-7Q4K2"}},
		{"reference one character off shows no one", "TTF-7Q4K3", nil},
		{"origin in English", "Afghanistan", afghans},
		{"origin in Arabic", "أفغانستان", afghans},
		{"origin in Russian", "Афганистан", afghans},
		{"origin with a typo", "afganistan", afghans},
		{"origin with a typo in no language", "afghanstan", afghans},
		{"relationship in English", "mother", seekingMother},
		{"relationship in Somali", "hooyo", seekingMother},
		{"relationship in Dari", "مادر", seekingMother},
		{"origin and relationship", "Somalia son", []string{"TTF-9PL3D"}},
		{"nothing matches", "Nauru", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := search(t, c, FaceQuery{Text: tc.text})
			if got := sortedRefs(res.Hits); !slices.Equal(got, tc.want) {
				t.Errorf("search %q = %v, want %v", tc.text, got, tc.want)
			}
			if res.Total != int64(len(tc.want)) {
				t.Errorf("search %q: Total = %d, want %d", tc.text, res.Total, len(tc.want))
			}
		})
	}
}

func TestSearchFacesFiltersAndFacets(t *testing.T) {
	t.Parallel()
	c := seededClient(t)

	all := search(t, c, FaceQuery{})
	wantFacets := map[string]map[string]int64{
		"gender":    {"female": 3, "male": 1, "other": 1},
		"age_group": {"15-17": 1, "18-29": 1, "30-44": 1, "45-59": 1, "60+": 1},
		"origin":    {"af": 2, "so": 1, "sy": 1, "ua": 1},
		"seeking":   {"mother": 3, "brother": 1, "son": 1, "father": 1, "daughter": 1},
	}
	if !reflect.DeepEqual(all.Facets, wantFacets) {
		t.Errorf("facets = %v, want %v", all.Facets, wantFacets)
	}

	for _, tc := range []struct {
		name       string
		q          FaceQuery
		want       []string // sorted
		wantGender map[string]int64
	}{
		{"origin and relationship", FaceQuery{Origin: "af", Seeking: "mother"},
			[]string{"TTF-2B8MX", "TTF-7Q4K2"}, map[string]int64{"female": 1, "male": 1}},
		{"gender", FaceQuery{Gender: "female"},
			[]string{"TTF-7Q4K2", "TTF-8ZD5N", "TTF-9PL3D"}, map[string]int64{"female": 3}},
		{"age group with a plus sign", FaceQuery{AgeGroup: "60+"},
			[]string{"TTF-8ZD5N"}, map[string]int64{"female": 1}},
		{"relationship in an array", FaceQuery{Seeking: "father"},
			[]string{"TTF-4KR7W"}, map[string]int64{"other": 1}},
		{"filter and text", FaceQuery{Gender: "male", Text: "mother"},
			[]string{"TTF-2B8MX"}, map[string]int64{"male": 1}},
		{"no match", FaceQuery{Origin: "nr"}, nil, map[string]int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := search(t, c, tc.q)
			if got := sortedRefs(res.Hits); !slices.Equal(got, tc.want) {
				t.Errorf("refs = %v, want %v", got, tc.want)
			}
			if res.Total != int64(len(tc.want)) {
				t.Errorf("Total = %d, want %d", res.Total, len(tc.want))
			}
			// The counts beside each filter follow the filtered results.
			if !maps.Equal(res.Facets["gender"], tc.wantGender) {
				t.Errorf("gender counts = %v, want %v", res.Facets["gender"], tc.wantGender)
			}
			for _, f := range facetFields() {
				if res.Facets[f] == nil {
					t.Errorf("facet %s missing", f)
				}
			}
		})
	}
}

func TestSearchFacesNewestFirst(t *testing.T) {
	t.Parallel()
	c := seededClient(t)
	res := search(t, c, FaceQuery{})
	want := []string{"TTF-8ZD5N", "TTF-4KR7W", "TTF-9PL3D", "TTF-2B8MX", "TTF-7Q4K2"}
	if got := refs(res.Hits); !slices.Equal(got, want) {
		t.Errorf("gallery order = %v, want newest first %v", got, want)
	}
	// A hit carries what a card shows; the name lists exist to be searched.
	want0 := testFaces()[4]
	want0.OriginNames, want0.SeekingWords = []string{}, []string{}
	got0 := res.Hits[0]
	if got0.OriginNames == nil {
		got0.OriginNames = []string{}
	}
	if got0.SeekingWords == nil {
		got0.SeekingWords = []string{}
	}
	if !reflect.DeepEqual(got0, want0) {
		t.Errorf("first hit = %+v, want the card fields as indexed %+v", got0, want0)
	}
}

func TestSearchFacesPagination(t *testing.T) {
	t.Parallel()
	c := seededClient(t)
	for _, tc := range []struct {
		page int
		want []string
	}{
		{1, []string{"TTF-8ZD5N", "TTF-4KR7W"}},
		{2, []string{"TTF-9PL3D", "TTF-2B8MX"}},
		{3, []string{"TTF-7Q4K2"}},
		{4, []string{}},
	} {
		res := search(t, c, FaceQuery{Page: tc.page, PerPage: 2})
		if got := refs(res.Hits); !slices.Equal(got, tc.want) {
			t.Errorf("page %d = %v, want %v", tc.page, got, tc.want)
		}
		if res.Page != int64(tc.page) || res.TotalPages != 3 || res.Total != 5 {
			t.Errorf("page %d: Page %d, TotalPages %d, Total %d; want %d, 3, 5",
				tc.page, res.Page, res.TotalPages, res.Total, tc.page)
		}
	}
	if res := search(t, c, FaceQuery{}); res.Page != 1 || len(res.Hits) != 5 || res.TotalPages != 1 {
		t.Errorf("default page: Page %d, %d hits, TotalPages %d; want 1, 5, 1", res.Page, len(res.Hits), res.TotalPages)
	}
}

func TestDeleteFacesRemovesFromSearch(t *testing.T) {
	t.Parallel()
	c := seededClient(t)
	if err := c.DeleteFaces(t.Context(), []string{"TTF-7Q4K2", "TTF-NOPE0"}); err != nil {
		t.Fatalf("DeleteFaces: %v", err)
	}
	if res := search(t, c, FaceQuery{Text: "TTF-7Q4K2"}); len(res.Hits) != 0 {
		t.Errorf("withdrawn entry still found: %v", refs(res.Hits))
	}
	if res := search(t, c, FaceQuery{Origin: "af"}); !slices.Equal(refs(res.Hits), []string{"TTF-2B8MX"}) || res.Facets["origin"]["af"] != 1 {
		t.Errorf("after withdrawal: refs %v, af count %d; want [TTF-2B8MX], 1", refs(res.Hits), res.Facets["origin"]["af"])
	}
}

func TestUpsertFacesReplaces(t *testing.T) {
	t.Parallel()
	c := seededClient(t)
	f := testFaces()[0]
	f.AgeGroup = "30-44"
	if err := c.UpsertFaces(t.Context(), []Face{f}); err != nil {
		t.Fatal(err)
	}
	res := search(t, c, FaceQuery{Text: f.Ref})
	if len(res.Hits) != 1 || res.Hits[0].AgeGroup != "30-44" {
		t.Errorf("after replacing: %+v, want one entry with age group 30-44", res.Hits)
	}
	if all := search(t, c, FaceQuery{}); all.Total != 5 {
		t.Errorf("gallery holds %d entries after a replace, want 5", all.Total)
	}
}

func TestUpsertFacesReportsFailedTask(t *testing.T) {
	t.Parallel()
	c := newFacesClient(t)
	good := testFaces()[0]
	bad := testFaces()[1]
	bad.Ref = "bad ref!"
	err := c.UpsertFaces(t.Context(), []Face{good, bad})
	if err == nil {
		t.Fatal("UpsertFaces with an invalid ref = nil, want the failed task's error")
	}
	var te *TaskError
	if !errors.As(err, &te) || te.Status != "failed" || te.Code != "invalid_document_id" {
		t.Errorf("error = %v, want a failed task with code invalid_document_id", err)
	}
	// The whole batch was refused: nothing half-published.
	if res := search(t, c, FaceQuery{}); res.Total != 0 {
		t.Errorf("after the failed batch the gallery holds %v", refs(res.Hits))
	}
}

// privateDoc is what a careless caller might send: a Face plus the fields
// that must never reach a visitor.
func privateDoc() map[string]any {
	b, _ := json.Marshal(testFaces()[0])
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	doc["name"] = "Amina Rahimi"
	doc["location"] = "Kabul"
	doc["society"] = "Afghan Red Crescent Society"
	doc["case_ref"] = "ARCS-2024-0042"
	return doc
}

func TestHitsHoldOnlyPublicFields(t *testing.T) {
	t.Parallel()
	c := newFacesClient(t)
	info, err := c.faces().AddDocumentsWithContext(t.Context(), []map[string]any{privateDoc()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(t.Context(), info.TaskUID); err != nil {
		t.Fatal(err)
	}
	allowed := faceFields()

	gallery, err := faceRequest(FaceQuery{Text: "Afghanistan"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  *meilisearch.SearchRequest
	}{
		{"the gallery's own request", gallery},
		{"a bare request", &meilisearch.SearchRequest{}},
		{"a request asking for the name", &meilisearch.SearchRequest{AttributesToRetrieve: []string{"*", "name", "society"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := c.faces().SearchRawWithContext(t.Context(), tc.req.Query, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Hits []map[string]json.RawMessage `json:"hits"`
			}
			if err := json.Unmarshal(*raw, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) != 1 {
				t.Fatalf("%d hits, want 1", len(res.Hits))
			}
			for key := range res.Hits[0] {
				if !slices.Contains(allowed, key) {
					t.Errorf("a hit exposes %q", key)
				}
			}
			if strings.Contains(string(*raw), "Amina") || strings.Contains(string(*raw), "Kabul") {
				t.Errorf("the response carries a private value: %s", *raw)
			}
		})
	}

	for _, text := range []string{"Amina", "Rahimi", "Kabul", "Crescent", "ARCS-2024-0042"} {
		if res := search(t, c, FaceQuery{Text: text}); len(res.Hits) != 0 {
			t.Errorf("searching %q finds %v: private fields must not be searchable", text, refs(res.Hits))
		}
	}
}

func TestFaceRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		q       FaceQuery
		filter  any
		text    string
		page    int64
		perPage int64
	}{
		{"empty", FaceQuery{}, nil, "", 1, 24},
		{"every filter", FaceQuery{Gender: "female", AgeGroup: "60+", Origin: "af", Seeking: "uncle-aunt", Page: 3, PerPage: 10},
			[]string{`gender = "female"`, `age_group = "60+"`, `origin = "af"`, `seeking = "uncle-aunt"`}, "", 3, 10},
		{"text never reaches the filter", FaceQuery{Text: `  x" OR gender = "male  `}, nil, `x" OR gender = "male`, 1, 24},
		{"per page capped", FaceQuery{PerPage: 1000}, nil, "", 1, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := faceRequest(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.Filter, tc.filter) {
				t.Errorf("filter = %#v, want %#v", req.Filter, tc.filter)
			}
			if req.Query != tc.text || req.Page != tc.page || req.HitsPerPage == nil || *req.HitsPerPage != tc.perPage {
				t.Errorf("q %q page %d hitsPerPage %v; want %q, %d, %d", req.Query, req.Page, req.HitsPerPage, tc.text, tc.page, tc.perPage)
			}
			if !slices.Equal(req.Sort, []string{"published_at:desc", "ref:asc"}) {
				t.Errorf("sort = %v", req.Sort)
			}
		})
	}
	a, _ := faceRequest(FaceQuery{})
	b, _ := faceRequest(FaceQuery{})
	if a == b || a.HitsPerPage == b.HitsPerPage {
		t.Error("faceRequest shares a request between calls")
	}
}

// badQueries are values a visitor can put in a gallery URL.
func badQueries() map[string]FaceQuery {
	return map[string]FaceQuery{
		"gender injection":  {Gender: `female" OR gender = "male`},
		"gender unknown":    {Gender: "Female"},
		"age injection":     {AgeGroup: `18-29" OR age_group EXISTS OR "`},
		"age unknown":       {AgeGroup: "0-14"},
		"origin injection":  {Origin: `af" OR origin = "so`},
		"origin upper case": {Origin: "AF"},
		"origin alpha-3":    {Origin: "afg"},
		"origin newline":    {Origin: "af\n"},
		"seeking injection": {Seeking: `mother" OR seeking EXISTS`},
		"seeking unknown":   {Seeking: "friend"},
		"negative page":     {Page: -1},
		"page past the end": {Page: 1 << 40},
		"negative per page": {PerPage: -5},
		"text too long":     {Text: strings.Repeat("a", 201)},
		"text not UTF-8":    {Text: "\xff\xfe"},
	}
}

func TestSearchFacesRefusesBadQueryWithoutSending(t *testing.T) {
	// A tripwire, not a fake Meilisearch: it only counts requests.
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no request should reach the server", http.StatusTeapot)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range badQueries() {
		t.Run(name, func(t *testing.T) {
			res, err := c.SearchFaces(t.Context(), q)
			if !errors.Is(err, ErrBadQuery) {
				t.Errorf("SearchFaces(%+v) = %v, %v; want ErrBadQuery", q, res, err)
			}
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Field == "" {
				t.Errorf("error %v does not name the field", err)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests reached the server for refused queries", n)
	}
}

func TestSearchFacesInjectionChangesNothingLive(t *testing.T) {
	t.Parallel()
	c := seededClient(t)
	if _, err := c.SearchFaces(t.Context(), FaceQuery{Gender: `female" OR gender = "male`}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("injected gender: err = %v, want ErrBadQuery", err)
	}
	// Filter syntax in the text box is only words to look for.
	res := search(t, c, FaceQuery{Gender: "male", Text: `" OR gender = "female`})
	for _, h := range res.Hits {
		if h.Gender != "male" {
			t.Errorf("filter syntax in the text widened the results: %+v", h)
		}
	}
}

// TestSearchFacesSameSecondInRefOrder: photos published in the same second
// (a batch, or a seed) keep one order, whatever order they were indexed
// in, so that a reindex (after a restore, say) does not reshuffle the
// gallery and move photos from one page to another.
func TestSearchFacesSameSecondInRefOrder(t *testing.T) {
	t.Parallel()
	c := newFacesClient(t)
	ctx := t.Context()
	faces := []Face{
		testFace("TTF-CCCCC", "female", "18-29", "af", 1_700_000_000, "mother"),
		testFace("TTF-AAAAA", "female", "18-29", "af", 1_700_000_000, "mother"),
		testFace("TTF-DDDDD", "female", "18-29", "af", 1_700_000_000, "mother"),
		testFace("TTF-BBBBB", "female", "18-29", "af", 1_700_000_000, "mother"),
		testFace("TTF-NEWER", "female", "18-29", "af", 1_700_000_001, "mother"),
	}
	want := []string{"TTF-NEWER", "TTF-AAAAA", "TTF-BBBBB", "TTF-CCCCC", "TTF-DDDDD"}
	// One by one, as the outbox indexes them.
	for _, f := range faces {
		if err := c.UpsertFaces(ctx, []Face{f}); err != nil {
			t.Fatal(err)
		}
	}
	if got := refs(search(t, c, FaceQuery{}).Hits); !slices.Equal(got, want) {
		t.Errorf("indexed one by one: order %v, want %v", got, want)
	}
	// All at once, in another order, as reindex does.
	slices.Reverse(faces)
	if err := c.Reindex(ctx, func(add func([]Face) error) error { return add(faces) }); err != nil {
		t.Fatal(err)
	}
	if got := refs(search(t, c, FaceQuery{}).Hits); !slices.Equal(got, want) {
		t.Errorf("after a reindex: order %v, want %v", got, want)
	}
}
