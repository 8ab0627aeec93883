package check

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// What the manifests promise; deploy/README.md says the same.
const (
	siteReplicas  = 3 // the site's Deployment, and the HPA's floor
	meiliImage    = "getmeili/meilisearch:v1.21.0"
	pgMajor       = "15"                     // PostgreSQL major version
	appName       = "familylinks"            // app.kubernetes.io/name of the site and its jobs
	siteComponent = "site"                   // app.kubernetes.io/component of the site
	minPool       = 8                        // store.Open raises a smaller pool to 8
	reserveConns  = 10                       // PostgreSQL connections kept for pg_dump, psql, superuser
	nameLabel     = "app.kubernetes.io/name" //
	compLabel     = "app.kubernetes.io/component"
)

// runtimeEnv are variables read by the Go runtime rather than by the code.
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true}

// meiliEnv are the Meilisearch options (environment form) the manifests may
// set, from Meilisearch's configuration reference.
var meiliEnv = map[string]bool{
	"MEILI_ENV": true, "MEILI_MASTER_KEY": true, "MEILI_MAX_INDEXING_MEMORY": true,
	"MEILI_MAX_INDEXING_THREADS": true, "MEILI_NO_ANALYTICS": true, "MEILI_DB_PATH": true,
	"MEILI_HTTP_ADDR": true, "MEILI_LOG_LEVEL": true,
}

// requiredEnv is what each familylinks command needs to do its work.
var requiredEnv = map[string][]string{
	"serve":   {"DATABASE_URL", "FAMILYLINKS_DATA_KEY", "FAMILYLINKS_CSRF_KEY", "MEILI_URL", "MEILI_API_KEY", "MEILI_SEARCH_KEY", "FAMILYLINKS_ADDR", "FAMILYLINKS_BASE_URL", "FAMILYLINKS_TRUSTED_PROXIES"},
	"migrate": {"DATABASE_URL"},
	"reindex": {"DATABASE_URL", "MEILI_URL", "MEILI_API_KEY"},
	"purge":   {"DATABASE_URL"},
}

type problems struct{ list []error }

func (p *problems) add(where any, format string, args ...any) {
	p.list = append(p.list, fmt.Errorf("%v: %s", where, fmt.Sprintf(format, args...)))
}

// pod is a pod template of a workload.
type pod struct {
	doc  *Doc
	kind string // Deployment, StatefulSet, CronJob, Job
	meta metav1.ObjectMeta
	spec *corev1.PodSpec
}

func (p pod) isApp() bool  { return p.meta.Labels[nameLabel] == appName }
func (p pod) isSite() bool { return p.isApp() && p.meta.Labels[compLabel] == siteComponent }

type checker struct {
	s    *Set
	code *Code
	p    problems
	pods []pod
}

// Check returns every problem found in the set; none means valid.
func Check(s *Set, code *Code) []error {
	c := &checker{s: s, code: code}
	c.collectPods()
	c.metadata()
	c.kustomization()
	c.images()
	c.hardening()
	c.env()
	c.config()
	c.site()
	c.services()
	c.disruption()
	c.meilisearch()
	c.postgres()
	c.templates()
	c.cronJobs()
	c.network()
	return c.p.list
}

func (c *checker) collectPods() {
	for _, d := range c.s.Docs {
		switch o := d.Obj.(type) {
		case *appsv1.Deployment:
			c.pods = append(c.pods, pod{d, "Deployment", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			c.pods = append(c.pods, pod{d, "StatefulSet", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec})
		case *batchv1.Job:
			c.pods = append(c.pods, pod{d, "Job", o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec})
		case *batchv1.CronJob:
			c.pods = append(c.pods, pod{d, "CronJob", o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec})
		}
	}
}

func (c *checker) metadata() {
	seen := map[string]*Doc{}
	for _, d := range append(append([]*Doc(nil), c.s.Docs...), c.s.Templates...) {
		if errs := validation.IsDNS1123Subdomain(d.Name); len(errs) > 0 {
			c.p.add(d, "name %q: %s", d.Name, strings.Join(errs, "; "))
		}
		key := d.Kind + "/" + d.Name
		if prev, ok := seen[key]; ok {
			c.p.add(d, "%s is also defined in %v", key, prev)
		}
		seen[key] = d
		meta, _ := objectMeta(d.Obj)
		if d.Kind == "Namespace" {
			if d.Namespace != "" {
				c.p.add(d, "a Namespace has no namespace")
			}
		} else if d.Namespace != c.s.Kustomization.Namespace {
			c.p.add(d, "namespace %q, want %q (kustomization.yaml)", d.Namespace, c.s.Kustomization.Namespace)
		}
		c.labels(d, "metadata.labels", meta.Labels)
	}
	for _, p := range c.pods {
		c.labels(p.doc, "pod template labels", p.meta.Labels)
	}
}

func (c *checker) labels(d *Doc, where string, l map[string]string) {
	for k, v := range l {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			c.p.add(d, "%s: key %q: %s", where, k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			c.p.add(d, "%s: %s=%q: %s", where, k, v, strings.Join(errs, "; "))
		}
	}
}

func (c *checker) kustomization() {
	k := c.s.Kustomization
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		c.p.add("kustomization.yaml", "apiVersion/kind %s/%s, want kustomize.config.k8s.io/v1beta1/Kustomization", k.APIVersion, k.Kind)
	}
	files := map[string]bool{}
	for _, d := range c.s.Docs {
		files[d.File] = true
	}
	listed := map[string]bool{}
	for _, r := range k.Resources {
		if listed[r] {
			c.p.add("kustomization.yaml", "resource %s listed twice", r)
		}
		listed[r] = true
		if strings.HasPrefix(path.Clean(r), "secrets") {
			c.p.add("kustomization.yaml", "resource %s: the Secret templates must never be applied with the rest (they would overwrite the real Secrets)", r)
		} else if !files[r] {
			c.p.add("kustomization.yaml", "resource %s does not exist", r)
		}
	}
	for f := range files {
		if !listed[f] {
			c.p.add("kustomization.yaml", "%s is not listed in resources", f)
		}
	}
	found := false
	for _, ns := range Of[*corev1.Namespace](c.s.Docs) {
		found = found || ns.Name == k.Namespace
	}
	if !found {
		c.p.add("kustomization.yaml", "namespace %q has no Namespace manifest", k.Namespace)
	}
	for _, d := range c.s.Docs {
		if d.Kind == "Secret" {
			c.p.add(d, "a Secret among the applied manifests: Secrets are templates under secrets/")
		}
	}
	for _, d := range c.s.Templates {
		if d.Kind != "Secret" {
			c.p.add(d, "only Secret templates belong under secrets/")
		}
	}
}

// splitImage splits "repo/name:tag@digest".
func splitImage(img string) (name, tag, digest string) {
	name, digest, _ = strings.Cut(img, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

func pinned(img string) error {
	_, tag, digest := splitImage(img)
	switch {
	case tag == "" && digest == "":
		return fmt.Errorf("image %q has no tag: pin it", img)
	case tag == "latest":
		return fmt.Errorf("image %q: :latest is not a version", img)
	}
	return nil
}

func (c *checker) images() {
	k := c.s.Kustomization
	var appImages []string
	for _, p := range c.pods {
		for _, ct := range p.spec.Containers {
			if err := pinned(ct.Image); err != nil {
				c.p.add(p.doc, "container %s: %v", ct.Name, err)
			}
			if p.isApp() {
				appImages = append(appImages, ct.Image)
			}
		}
		for _, ct := range p.spec.InitContainers {
			c.p.add(p.doc, "init container %s: none expected", ct.Name)
		}
	}
	if len(appImages) == 0 {
		c.p.add("manifests", "no familylinks container")
		return
	}
	for _, img := range appImages {
		if img != appImages[0] {
			c.p.add("manifests", "the site and its jobs must run one image: %q and %q", appImages[0], img)
		}
	}
	name, _, _ := splitImage(appImages[0])
	var set *Image
	for i := range k.Images {
		if k.Images[i].Name == name {
			set = &k.Images[i]
		}
	}
	if set == nil {
		c.p.add("kustomization.yaml", "images: no entry for %s, the image of the site", name)
	} else if set.Digest == "" && (set.NewTag == "" || set.NewTag == "latest") {
		c.p.add("kustomization.yaml", "images: %s needs a newTag (a version, not latest) or a digest", name)
	}
	for _, p := range c.pods {
		if p.meta.Labels[nameLabel] == "meilisearch" {
			for _, ct := range p.spec.Containers {
				if ct.Image != meiliImage {
					c.p.add(p.doc, "Meilisearch image %q, want %q (the version the site is tested against)", ct.Image, meiliImage)
				}
			}
		}
	}
	if img := c.code.ComposeImages["meilisearch"]; img != meiliImage {
		c.p.add("deploy/compose.yaml", "Meilisearch image %q differs from Kubernetes' %q", img, meiliImage)
	}
	_, composePG, _ := splitImage(c.code.ComposeImages["postgres"])
	if !strings.HasPrefix(composePG, pgMajor+".") {
		c.p.add("deploy/compose.yaml", "PostgreSQL image %q is not PostgreSQL %s", c.code.ComposeImages["postgres"], pgMajor)
	}
}

func (c *checker) hardening() {
	for _, p := range c.pods {
		s := p.spec
		if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
			c.p.add(p.doc, "automountServiceAccountToken must be false: nothing here calls the Kubernetes API")
		}
		if s.HostNetwork || s.HostPID || s.HostIPC {
			c.p.add(p.doc, "no host namespaces")
		}
		psc := s.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			c.p.add(p.doc, "pod securityContext.runAsNonRoot must be true")
		}
		if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			c.p.add(p.doc, "pod securityContext.runAsUser must be a non-zero UID")
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			c.p.add(p.doc, "pod securityContext.seccompProfile must be RuntimeDefault")
		}
		if p.isApp() && (s.EnableServiceLinks == nil || *s.EnableServiceLinks) {
			c.p.add(p.doc, "enableServiceLinks must be false: service links inject FAMILYLINKS_* variables")
		}
		writable := map[string]bool{}
		for _, v := range s.Volumes {
			writable[v.Name] = v.EmptyDir != nil
		}
		for _, ct := range s.Containers {
			where := fmt.Sprintf("%v container %s", p.doc, ct.Name)
			sc := ct.SecurityContext
			if sc == nil {
				c.p.add(where, "no securityContext")
				continue
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				c.p.add(where, "allowPrivilegeEscalation must be false")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				c.p.add(where, "readOnlyRootFilesystem must be true")
			}
			if sc.Privileged != nil && *sc.Privileged {
				c.p.add(where, "privileged")
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				c.p.add(where, "capabilities must drop ALL and add none")
			}
			if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
				c.p.add(where, "runs as root")
			}
			c.resources(where, ct.Resources)
			for _, m := range ct.VolumeMounts {
				if _, ok := writable[m.Name]; !ok && !c.claimed(p, m.Name) {
					c.p.add(where, "mounts volume %q, which the pod does not define", m.Name)
				}
			}
		}
	}
}

// claimed reports whether a StatefulSet pod gets the volume from a claim
// template.
func (c *checker) claimed(p pod, name string) bool {
	if sts, ok := p.doc.Obj.(*appsv1.StatefulSet); ok {
		for _, t := range sts.Spec.VolumeClaimTemplates {
			if t.Name == name {
				return true
			}
		}
	}
	return false
}

func (c *checker) resources(where string, r corev1.ResourceRequirements) {
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, ok1 := r.Requests[res]
		lim, ok2 := r.Limits[res]
		if !ok1 || !ok2 {
			c.p.add(where, "resources: %s needs a request and a limit", res)
			continue
		}
		if req.Cmp(lim) > 0 {
			c.p.add(where, "resources: %s request %s above its limit %s", res, req.String(), lim.String())
		}
	}
}

// command is the familylinks command a container runs.
func command(ct corev1.Container) string {
	args := append(append([]string(nil), ct.Command...), ct.Args...)
	if len(args) > 0 && strings.HasSuffix(args[0], "/familylinks") {
		args = args[1:]
	}
	if len(args) == 0 {
		return "serve" // the image's CMD
	}
	return args[0]
}

func (c *checker) configMap(name string) *corev1.ConfigMap {
	for _, cm := range Of[*corev1.ConfigMap](c.s.Docs) {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

func (c *checker) secretTemplate(name string) *corev1.Secret {
	for _, sec := range Of[*corev1.Secret](c.s.Templates) {
		if sec.Name == name {
			return sec
		}
	}
	return nil
}

func (c *checker) env() {
	usedCM := map[string]bool{}
	usedSecret := map[string]bool{}
	for _, p := range c.pods {
		for _, ct := range p.spec.Containers {
			where := fmt.Sprintf("%v container %s", p.doc, ct.Name)
			if len(ct.EnvFrom) > 0 {
				c.p.add(where, "envFrom: name each variable in env, so that each one is checked")
			}
			have := map[string]bool{}
			for _, e := range ct.Env {
				if have[e.Name] {
					c.p.add(where, "variable %s set twice", e.Name)
				}
				have[e.Name] = true
				switch {
				case p.isApp() && !c.code.Env[e.Name] && !runtimeEnv[e.Name]:
					c.p.add(where, "variable %s is not read by familylinks (it reads %s)", e.Name, strings.Join(c.code.EnvNames(), ", "))
				case p.meta.Labels[nameLabel] == "meilisearch" && !meiliEnv[e.Name]:
					c.p.add(where, "variable %s is not a Meilisearch option this check knows", e.Name)
				}
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					usedCM[r.Name+"/"+r.Key] = true
					cm := c.configMap(r.Name)
					if cm == nil {
						c.p.add(where, "%s: no ConfigMap %s", e.Name, r.Name)
					} else if _, ok := cm.Data[r.Key]; !ok {
						c.p.add(where, "%s: ConfigMap %s has no key %s", e.Name, r.Name, r.Key)
					}
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					usedSecret[r.Name+"/"+r.Key] = true
					sec := c.secretTemplate(r.Name)
					if sec == nil {
						c.p.add(where, "%s: no template for Secret %s under secrets/", e.Name, r.Name)
					} else if _, ok := sec.StringData[r.Key]; !ok {
						c.p.add(where, "%s: the template of Secret %s has no key %s", e.Name, r.Name, r.Key)
					}
					if r.Optional != nil && *r.Optional {
						c.p.add(where, "%s: a secret must not be optional: a missing one should stop the pod, not start it half-configured", e.Name)
					}
				}
			}
			if p.isApp() {
				cmd := command(ct)
				need, ok := requiredEnv[cmd]
				if !ok {
					c.p.add(where, "runs %q, a command this check does not know", cmd)
				}
				for _, n := range need {
					if !have[n] {
						c.p.add(where, "familylinks %s needs %s", cmd, n)
					}
				}
			}
		}
	}
	for _, cm := range Of[*corev1.ConfigMap](c.s.Docs) {
		for k := range cm.Data {
			if !usedCM[cm.Name+"/"+k] {
				c.p.add(c.s.docOf(cm), "key %s is given to no container", k)
			}
		}
	}
	for _, sec := range Of[*corev1.Secret](c.s.Templates) {
		if sec.Type == corev1.SecretTypeBasicAuth {
			continue // read by CloudNativePG (postgres checks it)
		}
		for k := range sec.StringData {
			if !usedSecret[sec.Name+"/"+k] {
				c.p.add(c.s.docOf(sec), "key %s is given to no container", k)
			}
		}
	}
}

// parseGoMemLimit reads the GOMEMLIMIT syntax: bytes with an optional
// B, KiB, MiB, GiB or TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a GOMEMLIMIT", s)
	}
	return n * mult, nil
}

func (c *checker) config() {
	for _, cm := range Of[*corev1.ConfigMap](c.s.Docs) {
		d := c.s.docOf(cm)
		for k, v := range cm.Data {
			var err error
			switch k {
			case "FAMILYLINKS_ADDR":
				_, _, err = net.SplitHostPort(v)
			case "FAMILYLINKS_BASE_URL":
				u, e := url.Parse(v)
				if e != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
					err = fmt.Errorf("%q must be an https:// origin (the site sits behind an HTTPS proxy)", v)
				}
			case "FAMILYLINKS_TRUSTED_PROXIES":
				for _, p := range strings.Split(v, ",") {
					p = strings.TrimSpace(p)
					_, e1 := netip.ParsePrefix(p)
					_, e2 := netip.ParseAddr(p)
					if e1 != nil && e2 != nil {
						err = fmt.Errorf("%q is neither an IP nor a CIDR (the site would silently trust nobody)", p)
					}
				}
			case "FAMILYLINKS_AUTO_MIGRATE":
				if v != "true" && v != "false" {
					err = fmt.Errorf("%q: true or false", v)
				}
			case "FAMILYLINKS_LOG_LEVEL":
				if !slices.Contains([]string{"debug", "info", "warn", "error"}, v) {
					err = fmt.Errorf("%q: debug, info, warn or error", v)
				}
			case "FAMILYLINKS_RETENTION_DAYS":
				if n, e := strconv.Atoi(v); e != nil || n < 0 {
					err = fmt.Errorf("%q is not a number of days", v)
				}
			case "MEILI_URL":
				u, e := url.Parse(v)
				if e != nil || u.Scheme != "http" && u.Scheme != "https" || u.Port() == "" {
					err = fmt.Errorf("%q must be http(s)://host:port", v)
				} else {
					err = c.serviceAddr(u.Hostname(), u.Port(), "meilisearch")
				}
			case "GOMEMLIMIT":
				var n int64
				if n, err = parseGoMemLimit(v); err == nil {
					err = c.underMemoryLimits(cm.Name, k, n)
				}
			}
			if err != nil {
				c.p.add(d, "%s: %v", k, err)
			}
		}
	}
}

// underMemoryLimits checks that a GOMEMLIMIT stays below the memory limit of
// every container given it.
func (c *checker) underMemoryLimits(cmName, key string, n int64) error {
	for _, p := range c.pods {
		for _, ct := range p.spec.Containers {
			for _, e := range ct.Env {
				if r := e.ValueFrom; r != nil && r.ConfigMapKeyRef != nil && r.ConfigMapKeyRef.Name == cmName && r.ConfigMapKeyRef.Key == key {
					lim, ok := ct.Resources.Limits[corev1.ResourceMemory]
					if ok && n >= lim.Value() {
						return fmt.Errorf("%d bytes is not below the %s memory limit of %v container %s", n, lim.String(), p.doc, ct.Name)
					}
				}
			}
		}
	}
	return nil
}

// serviceAddr checks that host:port is a Service of the namespace whose pods
// are those labelled app.kubernetes.io/name=app.
func (c *checker) serviceAddr(host, port, app string) error {
	for _, svc := range Of[*corev1.Service](c.s.Docs) {
		if host != svc.Name && host != svc.Name+"."+svc.Namespace && !strings.HasPrefix(host, svc.Name+"."+svc.Namespace+".svc") {
			continue
		}
		if svc.Spec.Selector[nameLabel] != app {
			return fmt.Errorf("Service %s does not select %s", svc.Name, app)
		}
		for _, sp := range svc.Spec.Ports {
			if strconv.Itoa(int(sp.Port)) == port {
				return nil
			}
		}
		return fmt.Errorf("Service %s has no port %s", svc.Name, port)
	}
	return fmt.Errorf("no Service %s", host)
}

func (c *checker) sitePods() []pod {
	var out []pod
	for _, p := range c.pods {
		if p.isSite() {
			out = append(out, p)
		}
	}
	return out
}

func (c *checker) siteDeployment() *appsv1.Deployment {
	for _, p := range c.sitePods() {
		if d, ok := p.doc.Obj.(*appsv1.Deployment); ok {
			return d
		}
	}
	return nil
}

func (c *checker) site() {
	sites := c.sitePods()
	if len(sites) != 1 || sites[0].kind != "Deployment" {
		c.p.add("manifests", "want exactly one site Deployment (%s=%s, %s=%s), found %d site workloads", nameLabel, appName, compLabel, siteComponent, len(sites))
		return
	}
	p := sites[0]
	dep := p.doc.Obj.(*appsv1.Deployment)
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != siteReplicas {
		c.p.add(p.doc, "replicas must be %d", siteReplicas)
	}
	if dep.Spec.Selector == nil || !matches(dep.Spec.Selector, p.meta.Labels) {
		c.p.add(p.doc, "the selector does not match the pod template's labels")
	}
	for _, other := range c.pods {
		if other.doc != p.doc && dep.Spec.Selector != nil && matches(dep.Spec.Selector, other.meta.Labels) {
			c.p.add(p.doc, "the selector also matches the pods of %v", other.doc)
		}
	}
	if len(p.spec.Containers) != 1 {
		c.p.add(p.doc, "want one container")
		return
	}
	ct := p.spec.Containers[0]
	if command(ct) != "serve" {
		c.p.add(p.doc, "the site container must run serve, not %q", command(ct))
	}
	ports := containerPorts(ct)
	c.probe(p.doc, "readinessProbe", ct.ReadinessProbe, "/readyz", ports)
	c.probe(p.doc, "livenessProbe", ct.LivenessProbe, "/healthz", ports)
	if ct.StartupProbe != nil {
		c.probe(p.doc, "startupProbe", ct.StartupProbe, "/healthz", ports)
	}
	// serve listens on FAMILYLINKS_ADDR: the container port must be that one.
	for _, e := range ct.Env {
		if e.Name != "FAMILYLINKS_ADDR" {
			continue
		}
		v := e.Value
		if r := e.ValueFrom; r != nil && r.ConfigMapKeyRef != nil {
			if cm := c.configMap(r.ConfigMapKeyRef.Name); cm != nil {
				v = cm.Data[r.ConfigMapKeyRef.Key]
			}
		}
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			continue // reported by config
		}
		if host != "0.0.0.0" && host != "" && host != "::" {
			c.p.add(p.doc, "FAMILYLINKS_ADDR %q listens on %s only: other pods could not reach it", v, host)
		}
		if !slices.ContainsFunc(ct.Ports, func(cp corev1.ContainerPort) bool { return strconv.Itoa(int(cp.ContainerPort)) == port }) {
			c.p.add(p.doc, "FAMILYLINKS_ADDR %q: the container declares no port %s", v, port)
		}
	}
}

func containerPorts(ct corev1.Container) map[string]int32 {
	out := map[string]int32{}
	for _, cp := range ct.Ports {
		if cp.Name != "" {
			out[cp.Name] = cp.ContainerPort
		}
	}
	return out
}

func (c *checker) probe(d *Doc, which string, pr *corev1.Probe, path string, ports map[string]int32) {
	if pr == nil || pr.HTTPGet == nil {
		c.p.add(d, "%s: want an HTTP GET of %s", which, path)
		return
	}
	if pr.HTTPGet.Path != path {
		c.p.add(d, "%s: path %q, want %q", which, pr.HTTPGet.Path, path)
	}
	if !c.code.Routes[pr.HTTPGet.Path] {
		c.p.add(d, "%s: the site registers no route %q (familylinks paths)", which, pr.HTTPGet.Path)
	}
	if name := pr.HTTPGet.Port.StrVal; name != "" {
		if _, ok := ports[name]; !ok {
			c.p.add(d, "%s: the container has no port named %q", which, name)
		}
	} else if !slices.Contains(mapValues(ports), int32(pr.HTTPGet.Port.IntValue())) {
		c.p.add(d, "%s: port %d is not a container port", which, pr.HTTPGet.Port.IntValue())
	}
	if pr.TimeoutSeconds > 0 && pr.PeriodSeconds > 0 && pr.TimeoutSeconds > pr.PeriodSeconds {
		c.p.add(d, "%s: timeout longer than the period", which)
	}
	if which == "readinessProbe" && pr.TimeoutSeconds < 5 {
		// /readyz checks PostgreSQL then Meilisearch, up to 2 s each.
		c.p.add(d, "%s: timeoutSeconds %d is shorter than /readyz may take (4 s)", which, pr.TimeoutSeconds)
	}
}

func mapValues(m map[string]int32) []int32 {
	var out []int32
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (c *checker) services() {
	for _, svc := range Of[*corev1.Service](c.s.Docs) {
		d := c.s.docOf(svc)
		if len(svc.Spec.Selector) == 0 {
			c.p.add(d, "no selector")
			continue
		}
		sel := &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}
		var selected []pod
		for _, p := range c.pods {
			if matches(sel, p.meta.Labels) {
				selected = append(selected, p)
			}
		}
		if len(selected) != 1 {
			names := []string{}
			for _, p := range selected {
				names = append(names, p.doc.String())
			}
			c.p.add(d, "the selector must match the pods of one workload, it matches %d: %v", len(selected), names)
			continue
		}
		p := selected[0]
		for _, sp := range svc.Spec.Ports {
			found := false
			for _, ct := range p.spec.Containers {
				for _, cp := range ct.Ports {
					if (sp.TargetPort.StrVal != "" && cp.Name == sp.TargetPort.StrVal) ||
						(sp.TargetPort.StrVal == "" && cp.ContainerPort == int32(sp.TargetPort.IntValue())) {
						found = true
					}
				}
			}
			if !found {
				c.p.add(d, "port %s: targetPort %s is not a port of %v", sp.Name, sp.TargetPort.String(), p.doc)
			}
		}
		if sts, ok := p.doc.Obj.(*appsv1.StatefulSet); ok {
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				c.p.add(d, "the Service of a StatefulSet must be headless (clusterIP: None)")
			}
			if sts.Spec.ServiceName != svc.Name {
				c.p.add(c.s.docOf(sts), "serviceName %q, but its Service is %q", sts.Spec.ServiceName, svc.Name)
			}
		}
	}
}

func (c *checker) disruption() {
	dep := c.siteDeployment()
	if dep == nil {
		return
	}
	tmpl := dep.Spec.Template.Labels
	pdbs := Of[*policyv1.PodDisruptionBudget](c.s.Docs)
	if len(pdbs) != 1 {
		c.p.add("manifests", "want one PodDisruptionBudget for the site, found %d", len(pdbs))
	}
	for _, pdb := range pdbs {
		d := c.s.docOf(pdb)
		if pdb.Spec.Selector == nil || !matches(pdb.Spec.Selector, tmpl) {
			c.p.add(d, "the selector does not match the site's pods")
		}
		for _, p := range c.pods {
			if !p.isSite() && pdb.Spec.Selector != nil && matches(pdb.Spec.Selector, p.meta.Labels) {
				c.p.add(d, "the selector also matches the pods of %v", p.doc)
			}
		}
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			if n := pdb.Spec.MaxUnavailable.IntValue(); pdb.Spec.MaxUnavailable.StrVal == "" && (n < 1 || n >= siteReplicas) {
				c.p.add(d, "maxUnavailable %d: keep it between 1 and %d", n, siteReplicas-1)
			}
		case pdb.Spec.MinAvailable != nil:
			if n := pdb.Spec.MinAvailable.IntValue(); pdb.Spec.MinAvailable.StrVal == "" && (n < 1 || n >= siteReplicas) {
				c.p.add(d, "minAvailable %d: with %d replicas a drain could never evict, or would take all", n, siteReplicas)
			}
		default:
			c.p.add(d, "set maxUnavailable or minAvailable")
		}
	}
	hpas := Of[*autoscalingv2.HorizontalPodAutoscaler](c.s.Docs)
	if len(hpas) != 1 {
		c.p.add("manifests", "want one HorizontalPodAutoscaler for the site, found %d", len(hpas))
	}
	for _, h := range hpas {
		d := c.s.docOf(h)
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != dep.Name {
			c.p.add(d, "scaleTargetRef %s %s/%s, want apps/v1 Deployment/%s", ref.APIVersion, ref.Kind, ref.Name, dep.Name)
		}
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != siteReplicas {
			c.p.add(d, "minReplicas must be %d, the Deployment's replicas", siteReplicas)
		}
		if h.Spec.MaxReplicas < siteReplicas {
			c.p.add(d, "maxReplicas %d below minReplicas", h.Spec.MaxReplicas)
		}
		if len(h.Spec.Metrics) == 0 {
			c.p.add(d, "no metrics")
		}
		for _, m := range h.Spec.Metrics {
			if m.Resource != nil {
				for _, ct := range dep.Spec.Template.Spec.Containers {
					if _, ok := ct.Resources.Requests[m.Resource.Name]; !ok && m.Resource.Target.Type == autoscalingv2.UtilizationMetricType {
						c.p.add(d, "scales on %s utilisation, but container %s requests no %s", m.Resource.Name, ct.Name, m.Resource.Name)
					}
				}
			}
		}
	}
}

func (c *checker) meilisearch() {
	var found int
	for _, p := range c.pods {
		if p.meta.Labels[nameLabel] != "meilisearch" {
			continue
		}
		found++
		sts, ok := p.doc.Obj.(*appsv1.StatefulSet)
		if !ok {
			c.p.add(p.doc, "Meilisearch must run as a StatefulSet with its own volume")
			continue
		}
		if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
			c.p.add(p.doc, "Meilisearch runs as one node: replicas 1")
		}
		claims := map[string]bool{}
		for _, t := range sts.Spec.VolumeClaimTemplates {
			if _, ok := t.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
				c.p.add(p.doc, "volume claim %s requests no storage", t.Name)
			}
			claims[t.Name] = true
		}
		for _, ct := range p.spec.Containers {
			args := append(append([]string(nil), ct.Command...), ct.Args...)
			if !slices.Contains(args, "--no-analytics") && !hasEnv(ct, "MEILI_NO_ANALYTICS", "true") {
				c.p.add(p.doc, "Meilisearch must run with --no-analytics")
			}
			if !hasEnv(ct, "MEILI_ENV", "production") {
				c.p.add(p.doc, "MEILI_ENV must be production (it then refuses to start without a master key)")
			}
			key := false
			for _, e := range ct.Env {
				if e.Name == "MEILI_MASTER_KEY" {
					key = e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
				}
			}
			if !key {
				c.p.add(p.doc, "MEILI_MASTER_KEY must come from a Secret")
			}
			dbPath := "/meili_data/data.ms"
			if i := slices.Index(args, "--db-path"); i >= 0 && i+1 < len(args) {
				dbPath = args[i+1]
			}
			onClaim := false
			for _, m := range ct.VolumeMounts {
				if claims[m.Name] && strings.HasPrefix(dbPath, strings.TrimSuffix(m.MountPath, "/")+"/") {
					onClaim = true
				}
			}
			if !onClaim {
				c.p.add(p.doc, "the database %s is not on the persistent volume", dbPath)
			}
		}
	}
	if found != 1 {
		c.p.add("manifests", "want one Meilisearch workload, found %d", found)
	}
}

func hasEnv(ct corev1.Container, name, value string) bool {
	for _, e := range ct.Env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

func (c *checker) postgres() {
	clusters := Of[*Cluster](c.s.Docs)
	if len(clusters) != 1 {
		c.p.add("manifests", "want one CloudNativePG Cluster, found %d", len(clusters))
		return
	}
	cl := clusters[0]
	d := c.s.docOf(cl)
	spec := cl.Spec
	if err := pinned(spec.ImageName); err != nil {
		c.p.add(d, "imageName: %v", err)
	}
	name, tag, _ := splitImage(spec.ImageName)
	if name != "ghcr.io/cloudnative-pg/postgresql" || !strings.HasPrefix(tag, pgMajor+".") {
		c.p.add(d, "imageName %q: want a PostgreSQL %s image of CloudNativePG (ghcr.io/cloudnative-pg/postgresql:%s.x…)", spec.ImageName, pgMajor, pgMajor)
	}
	if spec.Instances < 1 {
		c.p.add(d, "instances must be at least 1")
	}
	if v := spec.PrimaryUpdateStrategy; v != "" && v != "unsupervised" && v != "supervised" {
		c.p.add(d, "primaryUpdateStrategy %q: unsupervised or supervised", v)
	}
	if v := spec.PrimaryUpdateMethod; v != "" && v != "switchover" && v != "restart" {
		c.p.add(d, "primaryUpdateMethod %q: switchover or restart", v)
	}
	if q, err := resource.ParseQuantity(spec.StorageConfiguration.Size); err != nil || q.Sign() <= 0 {
		c.p.add(d, "storage.size %q is not a size", spec.StorageConfiguration.Size)
	}
	if spec.Bootstrap == nil || spec.Bootstrap.InitDB == nil || spec.Bootstrap.InitDB.Secret == nil {
		c.p.add(d, "bootstrap.initdb with database, owner and secret expected")
		return
	}
	initdb := spec.Bootstrap.InitDB
	owner := c.secretTemplate(initdb.Secret.Name)
	switch {
	case owner == nil:
		c.p.add(d, "bootstrap.initdb.secret %s has no template under secrets/", initdb.Secret.Name)
	case owner.Type != corev1.SecretTypeBasicAuth:
		c.p.add(c.s.docOf(owner), "CloudNativePG wants a %s Secret", corev1.SecretTypeBasicAuth)
	case owner.StringData["username"] != initdb.Owner:
		c.p.add(c.s.docOf(owner), "username %q, but the database owner is %q", owner.StringData["username"], initdb.Owner)
	}
	if _, ok := owner.StringData["password"]; owner != nil && !ok {
		c.p.add(c.s.docOf(owner), "no password")
	}

	// DATABASE_URL must point at this cluster, as its owner, over TLS, with
	// a pool size that fits the connection budget.
	dsn := ""
	for _, sec := range Of[*corev1.Secret](c.s.Templates) {
		if v, ok := sec.StringData["DATABASE_URL"]; ok {
			dsn = v
		}
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		c.p.add("secrets", "DATABASE_URL %q is not a postgres:// URL", dsn)
		return
	}
	if h := u.Hostname(); h != cl.Name+"-rw" && !strings.HasPrefix(h, cl.Name+"-rw.") {
		c.p.add("secrets", "DATABASE_URL host %q: the primary of %s is %s-rw", h, cl.Name, cl.Name)
	}
	if p := u.Port(); p != "" && p != "5432" {
		c.p.add("secrets", "DATABASE_URL port %s: CloudNativePG serves 5432", p)
	}
	if u.User.Username() != initdb.Owner || strings.TrimPrefix(u.Path, "/") != initdb.Database {
		c.p.add("secrets", "DATABASE_URL connects as %q to %q; the cluster creates %q owned by %q", u.User.Username(), strings.TrimPrefix(u.Path, "/"), initdb.Database, initdb.Owner)
	}
	q := u.Query()
	if m := q.Get("sslmode"); m == "" || m == "disable" || m == "allow" || m == "prefer" {
		c.p.add("secrets", "DATABASE_URL sslmode %q: require (or verify-full) TLS", m)
	}
	pool, err := strconv.Atoi(q.Get("pool_max_conns"))
	if err != nil {
		c.p.add("secrets", "DATABASE_URL needs pool_max_conns: without it each replica's pool is sized by its node's CPU count")
		return
	}
	pool = max(pool, minPool)
	hpas := Of[*autoscalingv2.HorizontalPodAutoscaler](c.s.Docs)
	replicas := int(siteReplicas)
	if len(hpas) == 1 {
		replicas = int(hpas[0].Spec.MaxReplicas)
	}
	jobs := 0
	for _, p := range c.pods {
		if p.isApp() && !p.isSite() {
			jobs++
		}
	}
	// Each site replica also holds one connection outside its pool: the
	// one that LISTENs for published Society cards.
	need := replicas*(pool+1) + jobs*pool + reserveConns
	maxConns, err := strconv.Atoi(spec.PostgresConfiguration.Parameters["max_connections"])
	if err != nil {
		maxConns = 100 // PostgreSQL's default
	}
	if maxConns < need {
		c.p.add(d, "max_connections %d < %d site replicas × (%d + 1 listening) + %d jobs × %d + %d in reserve = %d", maxConns, replicas, pool, jobs, pool, reserveConns, need)
	}
}

func (c *checker) templates() {
	for _, sec := range Of[*corev1.Secret](c.s.Templates) {
		d := c.s.docOf(sec)
		if len(sec.Data) > 0 {
			c.p.add(d, "a template carries only stringData placeholders, never data")
		}
		if len(sec.StringData) == 0 {
			c.p.add(d, "no stringData")
		}
		keys := make([]string, 0, len(sec.StringData))
		for k := range sec.StringData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := sec.StringData[k]
			if sec.Type == corev1.SecretTypeBasicAuth && k == "username" {
				continue
			}
			if v != "" && !strings.Contains(v, "REPLACE") {
				c.p.add(d, "%s holds a value without REPLACE in it: templates carry placeholders, never a real secret", k)
			}
		}
	}
}

func (c *checker) cronJobs() {
	for _, cj := range Of[*batchv1.CronJob](c.s.Docs) {
		d := c.s.docOf(cj)
		if f := strings.Fields(cj.Spec.Schedule); len(f) != 5 {
			c.p.add(d, "schedule %q: five fields", cj.Spec.Schedule)
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			c.p.add(d, "concurrencyPolicy must be Forbid: two runs at once gain nothing")
		}
		rp := cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy
		if rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
			c.p.add(d, "restartPolicy %q: a Job's pods use Never or OnFailure", rp)
		}
		if cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds == nil {
			c.p.add(d, "set activeDeadlineSeconds, so a stuck run ends")
		}
		// migrate and reindex are run by hand (kubectl create job --from).
		for _, ct := range cj.Spec.JobTemplate.Spec.Template.Spec.Containers {
			cmd := command(ct)
			manual := cmd == "migrate" || cmd == "reindex"
			suspended := cj.Spec.Suspend != nil && *cj.Spec.Suspend
			if manual != suspended {
				c.p.add(d, "runs %s: suspend must be %v (migrate and reindex are started by hand, purge on schedule)", cmd, manual)
			}
		}
	}
}

// Endpoints of the connectivity expectations.
func (c *checker) endpoints() (site, meili, pg Endpoint, jobs []Endpoint, ok bool) {
	ns := c.s.Kustomization.Namespace
	nsLabels := map[string]string{"kubernetes.io/metadata.name": ns}
	for _, n := range Of[*corev1.Namespace](c.s.Docs) {
		if n.Name == ns {
			for k, v := range n.Labels {
				nsLabels[k] = v
			}
		}
	}
	ep := func(p pod) Endpoint {
		ports := map[string]int32{}
		for _, ct := range p.spec.Containers {
			for k, v := range containerPorts(ct) {
				ports[k] = v
			}
		}
		return Endpoint{Name: p.doc.String(), Namespace: ns, NSLabels: nsLabels, Labels: p.meta.Labels, Ports: ports}
	}
	var foundSite, foundMeili bool
	for _, p := range c.pods {
		switch {
		case p.isSite():
			site, foundSite = ep(p), true
		case p.isApp():
			jobs = append(jobs, ep(p))
		case p.meta.Labels[nameLabel] == "meilisearch":
			meili, foundMeili = ep(p), true
		}
	}
	clusters := Of[*Cluster](c.s.Docs)
	if !foundSite || !foundMeili || len(clusters) != 1 {
		return site, meili, pg, jobs, false
	}
	// CloudNativePG labels its instance pods cnpg.io/cluster=<name>.
	pg = Endpoint{Name: "PostgreSQL instance", Namespace: ns, NSLabels: nsLabels,
		Labels: map[string]string{"cnpg.io/cluster": clusters[0].Name, "cnpg.io/instanceRole": "primary"},
		Ports:  map[string]int32{"postgresql": 5432, "metrics": 9187, "status": 8000}}
	return site, meili, pg, jobs, true
}

func (c *checker) network() {
	pols := &Policies{Namespace: c.s.Kustomization.Namespace, List: Of[*networkingv1.NetworkPolicy](c.s.Docs)}
	denyAll := false
	for _, np := range pols.List {
		s := np.Spec
		if len(s.PodSelector.MatchLabels) == 0 && len(s.PodSelector.MatchExpressions) == 0 &&
			hasType(np, networkingv1.PolicyTypeIngress) && hasType(np, networkingv1.PolicyTypeEgress) &&
			len(s.Ingress) == 0 && len(s.Egress) == 0 {
			denyAll = true
		}
	}
	if !denyAll {
		c.p.add("networkpolicies", "no default-deny policy (empty podSelector, Ingress and Egress, no rules)")
	}
	site, meili, pg, jobs, ok := c.endpoints()
	if !ok {
		c.p.add("networkpolicies", "cannot model the connections: the site, Meilisearch or PostgreSQL is missing")
		return
	}
	ns := pols.Namespace
	ingressCtl := Endpoint{Name: "ingress controller", Namespace: "ingress", NSLabels: map[string]string{"kubernetes.io/metadata.name": "ingress", "familylinks-ingress": "allow"}, Labels: map[string]string{"app": "controller"}}
	prometheus := Endpoint{Name: "Prometheus", Namespace: "monitoring", NSLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring", "familylinks-metrics": "allow"}, Labels: map[string]string{"app": "prometheus"}}
	dns := Endpoint{Name: "cluster DNS", Namespace: "kube-system", NSLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}, Labels: map[string]string{"k8s-app": "kube-dns"}}
	operator := Endpoint{Name: "CloudNativePG operator", Namespace: "cnpg-system", NSLabels: map[string]string{"kubernetes.io/metadata.name": "cnpg-system"}, Labels: map[string]string{"app.kubernetes.io/name": "cloudnative-pg"}}
	smtp := Endpoint{Name: "SMTP relay", IP: "203.0.113.25"}
	web := Endpoint{Name: "a web server outside", IP: "198.51.100.80"}
	strangerHere := Endpoint{Name: "another pod of the namespace", Namespace: ns, NSLabels: site.NSLabels, Labels: map[string]string{"app": "stranger"}}
	strangerThere := Endpoint{Name: "a pod of another namespace", Namespace: "other", NSLabels: map[string]string{"kubernetes.io/metadata.name": "other"}, Labels: map[string]string{"app.kubernetes.io/name": "familylinks", "app.kubernetes.io/component": "site"}}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	sitePort := site.Ports["http"]
	type conn struct {
		src, dst Endpoint
		port     int32
		proto    corev1.Protocol
		want     bool
	}
	// A stranger's own egress is not ours to rely on: what must stop it is
	// the receiver's ingress policy.
	stranger := func(e Endpoint) bool { return e.Labels["app"] == "stranger" || e.Namespace != ns }
	conns := []conn{
		{ingressCtl, site, sitePort, tcp, true},
		{prometheus, site, sitePort, tcp, true},
		{site, pg, 5432, tcp, true},
		{site, meili, 7700, tcp, true},
		{site, dns, 53, udp, true},
		{site, dns, 53, tcp, true},
		{site, smtp, 587, tcp, true},
		{site, smtp, 465, tcp, true},
		{pg, pg, 5432, tcp, true},
		{pg, pg, 8000, tcp, true},
		{operator, pg, 8000, tcp, true},
		{prometheus, pg, 9187, tcp, true},
		{prometheus, meili, 7700, tcp, false},
		{prometheus, pg, 5432, tcp, false},

		{strangerHere, site, sitePort, tcp, false},
		{strangerThere, site, sitePort, tcp, false},
		{strangerHere, meili, 7700, tcp, false},
		{strangerThere, meili, 7700, tcp, false},
		{ingressCtl, meili, 7700, tcp, false},
		{strangerHere, pg, 5432, tcp, false},
		{ingressCtl, pg, 5432, tcp, false},
		{site, web, 443, tcp, false},
		{site, web, 80, tcp, false},
		{site, pg, 8000, tcp, false},
		{meili, web, 443, tcp, false},
		{meili, smtp, 587, tcp, false},
		{meili, dns, 53, udp, false},
		{meili, site, sitePort, tcp, false},
		{site, site, sitePort, tcp, false},
	}
	for _, j := range jobs {
		conns = append(conns, conn{j, pg, 5432, tcp, true}, conn{j, dns, 53, udp, true}, conn{j, web, 443, tcp, false}, conn{ingressCtl, j, sitePort, tcp, false})
		if strings.Contains(j.Name, "reindex") {
			conns = append(conns, conn{j, meili, 7700, tcp, true})
		}
	}
	for _, x := range conns {
		got := pols.Allowed(x.src, x.dst, x.port, x.proto)
		if !x.want && x.dst.Namespace == ns && stranger(x.src) {
			got = pols.Accepts(x.dst, x.src, x.port, x.proto)
		}
		if got != x.want {
			verb := "must be allowed"
			if !x.want {
				verb = "must be denied"
			}
			c.p.add("networkpolicies", "%s → %s port %d/%s %s", x.src.Name, x.dst.Name, x.port, x.proto, verb)
		}
	}
}
