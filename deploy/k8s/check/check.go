// Package check validates the Kubernetes manifests of deploy/k8s offline
// (make k8s-check), by rules whose failure would hurt something:
//
//  1. Each document decodes strictly into its k8s.io/api type (or Cluster,
//     Kustomization below), as kubeconform -strict does: the API server would
//     silently drop an unknown field. kustomization.yaml lists every manifest
//     (else it is never applied) and no Secret (the templates would overwrite
//     the real Secrets).
//  2. The code is asked, not scraped: each variable set on a familylinks
//     container is one `familylinks env --names` prints (the binary ignores
//     others), each command gets what requiredEnv says it needs, and each
//     HTTP probe path is one `familylinks paths` prints.
//  3. Images are pinned (a tag but latest, or a digest), the site and its jobs
//     run one image, Meilisearch and the PostgreSQL major are those of
//     deploy/compose.yaml: what runs is what was developed and tested.
//  4. Pods run as non-root, without privilege escalation, capabilities, a
//     writable root, a service account token or service links (they inject
//     FAMILYLINKS_* variables): a compromised container can do little. CPU
//     and memory requests and limits keep one pod from starving a node.
//  5. A secretKeyRef names a template under secrets/ with its key and is not
//     optional: a missing secret stops the pod, not half-configures it. No
//     key or password is set in clear, and the templates in git hold only
//     REPLACE placeholders.
//  6. DATABASE_URL goes to the primary, over TLS (it carries personal
//     data); max_connections ≥ the HPA's maxReplicas × (pool_max_conns + 1
//     LISTEN connection) + jobs × pool + a reserve, or replicas fail under
//     load.
//  7. NetworkPolicy: a default deny, no ingress rule open to any pod, the
//     site's egress rules name their ports (the SMTP rule's 0.0.0.0/0 stays
//     SMTP), and the site may reach PostgreSQL and Meilisearch.
package check

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	net "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Doc is one YAML document of a manifest file, decoded into its API type.
type Doc struct {
	File, Kind, Name string
	Index            int // position in a multi-document file, from 0
	Obj              any // *appsv1.Deployment, *Cluster, …
}

func (d *Doc) String() string { return fmt.Sprintf("%s#%d (%s %s)", d.File, d.Index, d.Kind, d.Name) }

// Set is everything under the manifest directory.
type Set struct {
	Kustomization Kustomization
	Docs          []*Doc // the top-level *.yaml files, kustomization.yaml excepted
	Templates     []*Doc // secrets/*.yaml: Secret templates, applied by hand
}

// kinds maps apiVersion/kind to the Go type a document must decode into. A
// kind missing here is an error: add its type when a manifest needs it.
var kinds = map[string]func() any{
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                    func() any { return &appsv1.StatefulSet{} },
	"batch/v1/CronJob":                       func() any { return &batchv1.CronJob{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &net.NetworkPolicy{} },
	"postgresql.cnpg.io/v1/Cluster":          func() any { return &Cluster{} },
}

// Load reads and strictly decodes the manifests in fsys: kustomization.yaml,
// the other top-level *.yaml files and secrets/*.yaml.
func Load(fsys fs.FS) (*Set, error) {
	s := &Set{}
	raw, err := fs.ReadFile(fsys, "kustomization.yaml")
	if err == nil {
		err = decodeStrict(raw, &s.Kustomization)
	}
	if err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	names, _ := fs.Glob(fsys, "*.yaml") // sorted
	templates, _ := fs.Glob(fsys, "secrets/*.yaml")
	for _, name := range slices.Concat(slices.DeleteFunc(names, func(n string) bool { return n == "kustomization.yaml" }), templates) {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		i := 0
		for _, part := range regexp.MustCompile(`(?m)^---[ \t\r]*$`).Split(string(raw), -1) {
			j, err := yaml.YAMLToJSON([]byte(part))
			if string(j) == "null" {
				continue // only comments
			}
			var tm metav1.TypeMeta
			if err == nil {
				err = yaml.Unmarshal(j, &tm)
			}
			d := &Doc{File: name, Index: i, Kind: tm.Kind}
			i++
			if newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]; err == nil && !ok {
				err = fmt.Errorf("apiVersion %q kind %q is not one the check knows (add its Go type to kinds)", tm.APIVersion, tm.Kind)
			} else if err == nil {
				d.Obj = newObj()
				err = decodeStrict([]byte(part), d.Obj)
				d.Name = d.Obj.(metav1.Object).GetName()
			}
			if err != nil {
				return nil, fmt.Errorf("%v: %w", d, err)
			}
			if strings.HasPrefix(name, "secrets/") {
				s.Templates = append(s.Templates, d)
			} else {
				s.Docs = append(s.Docs, d)
			}
		}
	}
	return s, nil
}

// decodeStrict decodes one YAML document as the API server would: duplicate
// keys, unknown fields and fields in the wrong case are errors.
func decodeStrict(doc []byte, into any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := json.UnmarshalStrict(j, into, json.DisallowDuplicateFields, json.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// Of returns the documents' objects of type T.
func Of[T any](docs []*Doc) []T {
	var out []T
	for _, d := range docs {
		if v, ok := d.Obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// Code is what the manifests are held against in the rest of the
// repository, asked of the code rather than read from its source.
type Code struct {
	Env           map[string]bool   // variables familylinks reads: familylinks env --names
	Routes        map[string]bool   // paths the router answers: familylinks paths
	ComposeImages map[string]string // service → image, deploy/compose.yaml
}

// ReadCode asks the binary built from root, the repository root.
func ReadCode(root string) (*Code, error) {
	c := &Code{Env: map[string]bool{}, Routes: map[string]bool{}, ComposeImages: map[string]string{}}
	for i, args := range [][]string{{"env", "--names"}, {"paths"}} {
		cmd := exec.Command("go", append([]string{"run", "./cmd/familylinks"}, args...)...)
		cmd.Dir, cmd.Stderr = root, os.Stderr
		out, err := cmd.Output()
		if err != nil || len(strings.Fields(string(out))) == 0 {
			return nil, fmt.Errorf("familylinks %s printed nothing (%v)", strings.Join(args, " "), err)
		}
		for _, w := range strings.Fields(string(out)) {
			[]map[string]bool{c.Env, c.Routes}[i][w] = true // env --names, then paths
		}
	}
	var compose struct {
		Services map[string]struct {
			Image string `json:"image"`
		} `json:"services"`
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "compose.yaml"))
	if err == nil {
		err = yaml.Unmarshal(raw, &compose)
	}
	for name, s := range compose.Services {
		c.ComposeImages[name] = s.Image
	}
	return c, err
}

// Cluster is the part of CloudNativePG's Cluster (postgresql.cnpg.io/v1) in
// use, copied by hand from its api/v1/cluster_types.go (its module is not on
// the module proxy). Before using a new field, look it up and add it here.
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Description           string `json:"description,omitempty"`
		ImageName             string `json:"imageName,omitempty"`
		Instances             int    `json:"instances"`
		PrimaryUpdateStrategy string `json:"primaryUpdateStrategy,omitempty"`
		PrimaryUpdateMethod   string `json:"primaryUpdateMethod,omitempty"`
		PostgresConfiguration struct {
			Parameters map[string]string `json:"parameters,omitempty"`
		} `json:"postgresql,omitempty"`
		Bootstrap *struct {
			InitDB *struct {
				Database string `json:"database,omitempty"`
				Owner    string `json:"owner,omitempty"`
				Secret   *struct {
					Name string `json:"name"`
				} `json:"secret,omitempty"`
				DataChecksums *bool `json:"dataChecksums,omitempty"`
			} `json:"initdb,omitempty"`
		} `json:"bootstrap,omitempty"`
		StorageConfiguration struct {
			StorageClass *string `json:"storageClass,omitempty"`
			Size         string  `json:"size,omitempty"`
		} `json:"storage,omitempty"`
		Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	} `json:"spec"`
}

// Kustomization is the part of kustomize's Kustomization in use, after its
// api/types/kustomization.go and image.go.
type Kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// requiredEnv is what each familylinks command needs here (serve without
// FAMILYLINKS_ADDR would listen on 127.0.0.1 only…). `familylinks env` does
// not mark required variables, so the list lives here.
var requiredEnv = map[string][]string{
	"serve":   {"DATABASE_URL", "FAMILYLINKS_DATA_KEY", "FAMILYLINKS_CSRF_KEY", "MEILI_URL", "MEILI_API_KEY", "MEILI_SEARCH_KEY", "FAMILYLINKS_ADDR", "FAMILYLINKS_BASE_URL", "FAMILYLINKS_TRUSTED_PROXIES"},
	"migrate": {"DATABASE_URL"},
	"reindex": {"DATABASE_URL", "MEILI_URL", "MEILI_API_KEY"},
	"purge":   {"DATABASE_URL"},
}

// pod is the pod template of a workload; app is its app.kubernetes.io/name.
type pod struct {
	doc *Doc
	app string
	t   *corev1.PodTemplateSpec
}

func (p pod) site() bool { return p.app == "familylinks" && p.doc.Kind == "Deployment" }

type checker struct {
	s        *Set
	code     *Code
	pods     []pod
	appImage string // the first familylinks container's
	errs     []error
}

// want records a problem at where unless ok, and returns ok.
func (c *checker) want(ok bool, where any, format string, args ...any) bool {
	if !ok {
		c.errs = append(c.errs, fmt.Errorf("%v: %s", where, fmt.Sprintf(format, args...)))
	}
	return ok
}

func is(b *bool, want bool) bool { return b != nil && *b == want }

// Check returns every problem found in the set; none means valid.
func Check(s *Set, code *Code) []error {
	c := &checker{s: s, code: code}
	for _, d := range s.Docs {
		var t *corev1.PodTemplateSpec
		switch o := d.Obj.(type) {
		case *appsv1.Deployment:
			t = &o.Spec.Template
		case *appsv1.StatefulSet:
			t = &o.Spec.Template
		case *batchv1.CronJob:
			t = &o.Spec.JobTemplate.Spec.Template
		default:
			continue
		}
		c.pods = append(c.pods, pod{d, t.Labels["app.kubernetes.io/name"], t})
		if c.appImage == "" && c.pods[len(c.pods)-1].app == "familylinks" && len(t.Spec.Containers) > 0 {
			c.appImage = t.Spec.Containers[0].Image
		}
	}
	c.kustomization()
	c.images()
	for _, p := range c.pods {
		c.pod(p)
	}
	c.budget()
	c.templates()
	c.network()
	return c.errs
}

// secretName is a variable that holds a secret by its name.
var secretName = regexp.MustCompile(`KEY|SECRET|PASSWORD|TOKEN`)

// templates: the Secret templates in git carry placeholders, never a real
// secret (the owner's user name aside).
func (c *checker) templates() {
	for _, d := range c.s.Templates {
		for k, v := range d.Obj.(*corev1.Secret).StringData {
			c.want(k == "username" || strings.Contains(v, "REPLACE"), d, "%s holds a value without REPLACE in it: templates carry placeholders, never a real secret", k)
		}
	}
}

// kustomization: rule 1.
func (c *checker) kustomization() {
	listed := map[string]bool{}
	for _, r := range c.s.Kustomization.Resources {
		listed[path.Clean(r)] = true
		c.want(!strings.HasPrefix(path.Clean(r), "secrets/"), "kustomization.yaml", "resource %s: the Secret templates must never be applied with the rest (they would overwrite the real Secrets)", r)
	}
	for _, d := range c.s.Docs {
		c.want(listed[d.File] || d.Index > 0, "kustomization.yaml", "%s is not listed in resources: it would never be applied", d.File)
		c.want(d.Kind != "Secret", d, "a Secret among the applied manifests: Secrets are templates under secrets/")
	}
}

// pinned reports whether an image has a tag other than latest, or a digest,
// and returns its name and tag.
func pinned(img string) (ok bool, name, tag string) {
	name, digest, _ := strings.Cut(img, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return digest != "" || tag != "" && tag != "latest", name, tag
}

// major is the leading number of an image's tag: 15 of postgres:15.10-bookworm.
func major(img string) string {
	_, _, tag := pinned(img)
	return tag[:len(tag)-len(strings.TrimLeft(tag, "0123456789"))]
}

// images: rule 3 (pod checks each container's).
func (c *checker) images() {
	_, name, _ := pinned(c.appImage)
	pin := false
	for _, im := range c.s.Kustomization.Images {
		pin = pin || im.Name == name && (im.Digest != "" || im.NewTag != "" && im.NewTag != "latest")
	}
	c.want(pin, "kustomization.yaml", "images: %s needs a newTag (a version, not latest) or a digest", name)
	for _, cl := range Of[*Cluster](c.s.Docs) {
		ok, _, _ := pinned(cl.Spec.ImageName)
		compose := c.code.ComposeImages["postgres"]
		c.want(ok && major(cl.Spec.ImageName) == major(compose), cl.Name, "imageName %q: pin a version, the PostgreSQL major of deploy/compose.yaml's %q", cl.Spec.ImageName, compose)
	}
}

// pod: rules 2, 3, 4 and 5, container by container.
func (c *checker) pod(p pod) {
	spec := &p.t.Spec
	c.want(is(spec.AutomountServiceAccountToken, false), p.doc, "automountServiceAccountToken must be false: nothing here calls the Kubernetes API")
	c.want(is(spec.EnableServiceLinks, false), p.doc, "enableServiceLinks must be false: service links inject variables such as FAMILYLINKS_PORT")
	for _, ct := range slices.Concat(spec.InitContainers, spec.Containers) {
		where := fmt.Sprintf("%v container %s", p.doc, ct.Name)
		ok, _, _ := pinned(ct.Image)
		c.want(ok, where, "image %q: pin a version (a tag other than latest, or a digest)", ct.Image)
		c.want(p.app != "familylinks" || ct.Image == c.appImage, where, "the site and its jobs must run one image: %q and %q", c.appImage, ct.Image)
		compose := c.code.ComposeImages["meilisearch"]
		c.want(p.app != "meilisearch" || ct.Image == compose, where, "Meilisearch image %q differs from deploy/compose.yaml's %q", ct.Image, compose)
		sc := cmp.Or(ct.SecurityContext, &corev1.SecurityContext{})
		c.want(is(cmp.Or(sc.RunAsNonRoot, cmp.Or(spec.SecurityContext, &corev1.PodSecurityContext{}).RunAsNonRoot), true), where, "runAsNonRoot must be true")
		c.want(is(sc.AllowPrivilegeEscalation, false), where, "allowPrivilegeEscalation must be false")
		c.want(is(sc.ReadOnlyRootFilesystem, true), where, "readOnlyRootFilesystem must be true")
		c.want(sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL") && len(sc.Capabilities.Add) == 0, where, "capabilities must drop ALL and add none")
		req, lim := ct.Resources.Requests, ct.Resources.Limits
		c.want(!req.Cpu().IsZero() && !req.Memory().IsZero() && !lim.Cpu().IsZero() && !lim.Memory().IsZero(), where, "resources: cpu and memory need a request and a limit")
		c.want(len(ct.EnvFrom) == 0, where, "envFrom: name each variable in env, so that each one is checked")
		have := map[string]bool{}
		for _, e := range ct.Env {
			have[e.Name] = true
			c.want(e.Value == "" || !secretName.MatchString(e.Name), where, "%s is given in clear: a key or password comes from a Secret", e.Name)
			c.want(p.app != "familylinks" || c.code.Env[e.Name], where, "variable %s is not read by familylinks (familylinks env --names)", e.Name)
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				continue
			}
			r := e.ValueFrom.SecretKeyRef
			c.want(!is(r.Optional, true), where, "%s: a secret must not be optional: a missing one should stop the pod, not start it half-configured", e.Name)
			i := slices.IndexFunc(c.s.Templates, func(d *Doc) bool { return d.Kind == "Secret" && d.Name == r.Name })
			if c.want(i >= 0, where, "%s: no template for Secret %s under secrets/", e.Name, r.Name) {
				_, ok := c.s.Templates[i].Obj.(*corev1.Secret).StringData[r.Key]
				c.want(ok, where, "%s: the template of Secret %s has no key %s", e.Name, r.Name, r.Key)
			}
		}
		if p.app != "familylinks" {
			continue
		}
		for _, pr := range []*corev1.Probe{ct.StartupProbe, ct.LivenessProbe, ct.ReadinessProbe} {
			if pr != nil && pr.HTTPGet != nil {
				c.want(c.code.Routes[pr.HTTPGet.Path], where, "probe path %q is not one familylinks answers (familylinks paths)", pr.HTTPGet.Path)
			}
		}
		cmd := append(slices.Clone(ct.Args), "serve")[0] // args name the command; the image's CMD is serve
		need, ok := requiredEnv[cmd]
		c.want(ok, where, "runs %q, a command requiredEnv does not know", cmd)
		for _, n := range need {
			c.want(have[n], where, "familylinks %s needs %s", cmd, n)
		}
	}
}

// budget: rule 6.
func (c *checker) budget() {
	dsn := ""
	for _, sec := range Of[*corev1.Secret](c.s.Templates) {
		dsn = cmp.Or(dsn, sec.StringData["DATABASE_URL"])
	}
	hpas, clusters := Of[*autoscalingv2.HorizontalPodAutoscaler](c.s.Docs), Of[*Cluster](c.s.Docs)
	u, err := url.Parse(dsn)
	if !c.want(len(hpas) == 1 && len(clusters) == 1 && dsn != "" && err == nil, "manifests", "want one HorizontalPodAutoscaler (the site's), one CloudNativePG Cluster and a DATABASE_URL in secrets/") {
		return
	}
	host, mode := u.Hostname(), u.Query().Get("sslmode")
	c.want(host == clusters[0].Name+"-rw" || strings.HasPrefix(host, clusters[0].Name+"-rw."), "secrets", "DATABASE_URL host %q: writes go to the primary, %s-rw", host, clusters[0].Name)
	c.want(mode == "require" || strings.HasPrefix(mode, "verify-"), "secrets", "DATABASE_URL sslmode %q: personal data crosses this connection; require TLS", mode)
	pool, err := strconv.Atoi(u.Query().Get("pool_max_conns"))
	if !c.want(err == nil, "secrets", "DATABASE_URL needs pool_max_conns: without it each replica's pool is sized by its node's CPU count") {
		return
	}
	pool = max(pool, 8) // store.Open raises a smaller pool to 8
	jobs := len(slices.DeleteFunc(slices.Clone(c.pods), func(p pod) bool { return p.app != "familylinks" || p.site() }))
	// Each site replica also holds one connection outside its pool, that
	// LISTENs for published Society cards; 10 are kept for pg_dump and psql.
	replicas := int(hpas[0].Spec.MaxReplicas)
	need := replicas*(pool+1) + jobs*pool + 10
	maxConns, _ := strconv.Atoi(cmp.Or(clusters[0].Spec.PostgresConfiguration.Parameters["max_connections"], "100")) // PostgreSQL's default
	c.want(maxConns >= need, clusters[0].Name, "max_connections %d < %d site replicas × (%d + 1 listening) + %d jobs × %d + 10 in reserve = %d", maxConns, replicas, pool, jobs, pool, need)
}

// network: rule 7, read from the policies' rules.
func (c *checker) network() {
	pols := Of[*net.NetworkPolicy](c.s.Docs)
	c.want(slices.ContainsFunc(pols, func(np *net.NetworkPolicy) bool {
		s := np.Spec
		return empty(&s.PodSelector) && len(s.Ingress)+len(s.Egress) == 0 && slices.Contains(s.PolicyTypes, net.PolicyTypeIngress) && slices.Contains(s.PolicyTypes, net.PolicyTypeEgress)
	}), "networkpolicies", "no default-deny policy (empty podSelector, Ingress and Egress, no rules)")
	site := slices.IndexFunc(c.pods, pod.site)
	meili := slices.IndexFunc(c.pods, func(p pod) bool { return p.app == "meilisearch" })
	clusters := Of[*Cluster](c.s.Docs)
	if !c.want(site >= 0 && meili >= 0 && len(clusters) == 1, "networkpolicies", "the site, Meilisearch or PostgreSQL is missing") {
		return
	}
	siteLabels := c.pods[site].t.Labels
	for _, np := range pols {
		for _, r := range np.Spec.Ingress {
			c.want(len(r.From) > 0 && !slices.ContainsFunc(r.From, func(p net.NetworkPolicyPeer) bool {
				return p.IPBlock != nil && strings.HasSuffix(p.IPBlock.CIDR, "/0") || empty(p.NamespaceSelector) || p.NamespaceSelector == nil && empty(p.PodSelector)
			}), np.Name, "an ingress rule lets in every pod or address: name the peers")
		}
		for _, r := range np.Spec.Egress {
			c.want(len(r.Ports) > 0 || !matches(&np.Spec.PodSelector, siteLabels), np.Name, "an egress rule of the site opens every port: name them")
		}
	}
	c.want(reaches(pols, siteLabels, map[string]string{"cnpg.io/cluster": clusters[0].Name}, 5432), "networkpolicies", "the site cannot reach PostgreSQL on port 5432")
	c.want(reaches(pols, siteLabels, c.pods[meili].t.Labels, 7700), "networkpolicies", "the site cannot reach Meilisearch on port 7700")
}

// reaches reports whether the egress of the pods labelled from and the
// ingress of those labelled to let a connection through on port, reading
// policyTypes as written and peers named by pod selector only.
func reaches(pols []*net.NetworkPolicy, from, to map[string]string, port int) bool {
	allows := func(ports []net.NetworkPolicyPort, peers []net.NetworkPolicyPeer, other map[string]string) bool {
		return (len(ports) == 0 || slices.ContainsFunc(ports, func(p net.NetworkPolicyPort) bool { return p.Port == nil || p.Port.IntValue() == port })) &&
			(len(peers) == 0 || slices.ContainsFunc(peers, func(p net.NetworkPolicyPeer) bool {
				return p.NamespaceSelector == nil && p.PodSelector != nil && matches(p.PodSelector, other)
			}))
	}
	lets := func(subject, other map[string]string, dir net.PolicyType) bool {
		isolated, ok := false, false
		for _, np := range pols {
			if matches(&np.Spec.PodSelector, subject) && slices.Contains(np.Spec.PolicyTypes, dir) {
				isolated = true
				for _, r := range np.Spec.Ingress {
					ok = ok || dir == net.PolicyTypeIngress && allows(r.Ports, r.From, other)
				}
				for _, r := range np.Spec.Egress {
					ok = ok || dir == net.PolicyTypeEgress && allows(r.Ports, r.To, other)
				}
			}
		}
		return ok || !isolated
	}
	return lets(from, to, net.PolicyTypeEgress) && lets(to, from, net.PolicyTypeIngress)
}

func empty(sel *metav1.LabelSelector) bool {
	return sel != nil && len(sel.MatchLabels)+len(sel.MatchExpressions) == 0
}

// matches reports whether a label selector selects a label set.
func matches(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(set))
}
