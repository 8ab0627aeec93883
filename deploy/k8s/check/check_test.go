package check

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	manifestDir = ".."       // deploy/k8s
	repoRoot    = "../../.." // the repository
)

// manifests copies deploy/k8s (without this module) into memory, so that a
// test can break a copy.
func manifests(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(manifestDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == "check" {
				return fs.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(manifestDir + "/" + p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func code(t *testing.T) *Code {
	t.Helper()
	c, err := ReadCode(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run loads and checks fsys; a load error counts as a problem.
func run(fsys fs.FS, c *Code) []error {
	s, err := Load(fsys)
	if err != nil {
		return []error{err}
	}
	return Check(s, c)
}

// TestManifests is the check itself: every manifest decodes strictly and
// every cross-check holds.
func TestManifests(t *testing.T) {
	s, err := Load(os.DirFS(manifestDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Docs) < 10 || len(s.Templates) < 3 {
		t.Fatalf("loaded only %d manifests and %d templates", len(s.Docs), len(s.Templates))
	}
	for _, err := range Check(s, code(t)) {
		t.Error(err)
	}
}

// TestCodeIsRead guards the cross-checks: if the code moved, they would
// check nothing.
func TestCodeIsRead(t *testing.T) {
	c := code(t)
	for _, v := range []string{"DATABASE_URL", "MEILI_URL", "MEILI_API_KEY", "FAMILYLINKS_DATA_KEY", "FAMILYLINKS_TRUSTED_PROXIES", "FAMILYLINKS_RETENTION_DAYS"} {
		if !c.Env[v] {
			t.Errorf("the binary's variables (familylinks env --names) lack %s: %v", v, c.EnvNames())
		}
	}
	for _, r := range []string{"/healthz", "/readyz", "/metrics"} {
		if !c.Routes[r] {
			t.Errorf("route %s not among familylinks paths", r)
		}
	}
	if c.ComposeImages["meilisearch"] == "" || c.ComposeImages["postgres"] == "" {
		t.Errorf("images of deploy/compose.yaml not read: %v", c.ComposeImages)
	}
}

// TestBrokenManifestsFail breaks a copy of the manifests in one way at a
// time and expects the check to say so: a check that cannot fail is no check.
func TestBrokenManifestsFail(t *testing.T) {
	c := code(t)
	if errs := run(manifests(t), c); len(errs) > 0 {
		t.Fatalf("the manifests must pass before they are broken: %v", errs)
	}
	cases := []struct {
		name, file, old, new, want string
	}{
		{"misspelt field", "site-deployment.yaml", "imagePullPolicy: IfNotPresent", "imagePullPolcy: IfNotPresent", "unknown field"},
		{"field in the wrong case", "site-deployment.yaml", "readOnlyRootFilesystem: true", "readonlyRootFilesystem: true", "unknown field"},
		{"duplicate key", "site-service.yaml", "  type: ClusterIP\n", "  type: ClusterIP\n  type: NodePort\n", "already set"},
		{"wrong type", "site-deployment.yaml", "replicas: 3", "replicas: three", "replicas"},
		{"unknown kind", "site-pdb.yaml", "apiVersion: policy/v1", "apiVersion: policy/v1beta1", "not one the check knows"},
		{"two replicas", "site-deployment.yaml", "replicas: 3", "replicas: 2", "replicas must be 3"},
		{"readiness on a missing route", "site-deployment.yaml", "path: /readyz", "path: /ready", `path "/ready"`},
		{"liveness on readiness", "site-deployment.yaml", "httpGet: {path: /healthz, port: http}\n            periodSeconds: 10", "httpGet: {path: /readyz, port: http}\n            periodSeconds: 10", "livenessProbe"},
		{"probe on an unnamed port", "site-deployment.yaml", "httpGet: {path: /readyz, port: http}", "httpGet: {path: /readyz, port: web}", `no port named "web"`},
		{"short readiness timeout", "site-deployment.yaml", "periodSeconds: 5\n            timeoutSeconds: 5", "periodSeconds: 5\n            timeoutSeconds: 1", "shorter than /readyz"},
		{"selector misses the pods", "site-deployment.yaml", "    matchLabels:\n      app.kubernetes.io/name: familylinks\n      app.kubernetes.io/component: site\n  strategy", "    matchLabels:\n      app.kubernetes.io/name: familylinks\n      app.kubernetes.io/component: web\n  strategy", "selector does not match"},
		{"Service selects the jobs too", "site-service.yaml", "    app.kubernetes.io/component: site\n  ports", "  ports", "one workload"},
		{"PDB selects nothing", "site-pdb.yaml", "      app.kubernetes.io/component: site\n", "      app.kubernetes.io/component: website\n", "does not match the site"},
		{"HPA floor below replicas", "site-hpa.yaml", "minReplicas: 3", "minReplicas: 2", "minReplicas must be 3"},
		{"HPA on another Deployment", "site-hpa.yaml", "    name: familylinks\n  minReplicas", "    name: site\n  minReplicas", "scaleTargetRef"},
		{"variable the binary never reads", "site-deployment.yaml", "- name: FAMILYLINKS_LOG_LEVEL\n", "- name: FAMILYLINKS_LOGLEVEL\n", "not read by familylinks"},
		{"secret key missing from the template", "site-deployment.yaml", "{name: familylinks-secrets, key: MEILI_API_KEY}", "{name: familylinks-secrets, key: MEILI_KEY}", "has no key MEILI_KEY"},
		{"ConfigMap key missing", "site-deployment.yaml", "{name: familylinks-config, key: MEILI_URL}", "{name: familylinks-config, key: MEILI_ADDR}", "has no key MEILI_ADDR"},
		{"serve without its data key", "site-deployment.yaml", "            - name: FAMILYLINKS_DATA_KEY\n              valueFrom:\n                secretKeyRef: {name: familylinks-secrets, key: FAMILYLINKS_DATA_KEY}\n", "", "needs FAMILYLINKS_DATA_KEY"},
		{"envFrom", "site-deployment.yaml", "          env:\n            - name: DATABASE_URL", "          envFrom:\n            - configMapRef: {name: familylinks-config}\n          env:\n            - name: DATABASE_URL", "envFrom"},
		{"latest image", "meilisearch-statefulset.yaml", "getmeili/meilisearch:v1.21.0", "getmeili/meilisearch:latest", "latest"},
		{"other Meilisearch version", "meilisearch-statefulset.yaml", "getmeili/meilisearch:v1.21.0", "getmeili/meilisearch:v1.20.0", "want \"getmeili/meilisearch:v1.21.0\""},
		{"unpinned site image", "site-deployment.yaml", "image: registry.example/familylinks:VERSION", "image: registry.example/familylinks", "no tag"},
		{"jobs on another image", "purge-cronjob.yaml", "image: registry.example/familylinks:VERSION", "image: registry.example/familylinks:OTHER", "one image"},
		{"Meilisearch with analytics", "meilisearch-statefulset.yaml", `"--no-analytics", `, "", "--no-analytics"},
		{"Meilisearch on no volume", "meilisearch-statefulset.yaml", "mountPath: /meili_data", "mountPath: /data", "not on the persistent volume"},
		{"master key in clear", "meilisearch-statefulset.yaml", "valueFrom:\n                secretKeyRef: {name: meilisearch-master-key, key: MEILI_MASTER_KEY}", "value: REPLACE", "from a Secret"},
		{"writable root", "site-deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"capabilities kept", "purge-cronjob.yaml", `drop: ["ALL"]`, `drop: ["NET_RAW"]`, "drop ALL"},
		{"may run as root", "meilisearch-statefulset.yaml", "runAsNonRoot: true\n        runAsUser: 1000", "runAsNonRoot: false\n        runAsUser: 1000", "runAsNonRoot"},
		{"no memory limit", "site-deployment.yaml", "limits: {cpu: \"2\", memory: 512Mi}", "limits: {cpu: \"2\"}", "memory needs a request and a limit"},
		{"GOMEMLIMIT above the limit", "site-configmap.yaml", `GOMEMLIMIT: "450MiB"`, `GOMEMLIMIT: "1GiB"`, "not below"},
		{"untrusted proxy syntax", "site-configmap.yaml", `FAMILYLINKS_TRUSTED_PROXIES: "10.244.0.0/16"`, `FAMILYLINKS_TRUSTED_PROXIES: "the-ingress"`, "neither an IP nor a CIDR"},
		{"MEILI_URL to no Service", "site-configmap.yaml", "http://meilisearch:7700", "http://meili:7700", "no Service meili"},
		{"plain-HTTP base URL", "site-configmap.yaml", "https://familylinks.example", "http://familylinks.example", "https://"},
		{"dead ConfigMap key", "site-configmap.yaml", "  FAMILYLINKS_LOG_LEVEL: \"info\"\n", "  FAMILYLINKS_LOG_LEVEL: \"info\"\n  FAMILYLINKS_THEME: \"dark\"\n", "given to no container"},
		{"real-looking secret", "secrets/familylinks.template.yaml", `"REPLACE_WITH_MEILISEARCH_ADMIN_API_KEY"`, `"3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c1e"`, "without REPLACE"},
		{"template applied with the rest", "kustomization.yaml", "  - networkpolicies.yaml\n", "  - networkpolicies.yaml\n  - secrets/familylinks.template.yaml\n", "overwrite the real Secrets"},
		{"manifest left out of kustomization", "kustomization.yaml", "  - site-pdb.yaml\n", "", "site-pdb.yaml is not listed"},
		{"no image version", "kustomization.yaml", "newTag: VERSION", "newTag: latest", "needs a newTag"},
		{"CNPG misspelt field", "postgres-cluster.yaml", "primaryUpdateStrategy: unsupervised", "primaryUpdateStrategie: unsupervised", "unknown field"},
		{"PostgreSQL 16", "postgres-cluster.yaml", "postgresql:15.17-standard-trixie", "postgresql:16.9-standard-trixie", "PostgreSQL 15"},
		{"connection budget", "postgres-cluster.yaml", `max_connections: "200"`, `max_connections: "100"`, "max_connections 100"},
		{"pool unbounded", "secrets/familylinks.template.yaml", "&pool_max_conns=8", "", "pool_max_conns"},
		{"database URL to a replica", "secrets/familylinks.template.yaml", "@familylinks-pg-rw:5432", "@familylinks-pg-ro:5432", "primary"},
		{"database URL without TLS", "secrets/familylinks.template.yaml", "sslmode=require", "sslmode=disable", "sslmode"},
		{"owner mismatch", "secrets/postgres-owner.template.yaml", "username: familylinks", "username: app", "database owner"},
		{"no default deny", "networkpolicies.yaml", "  podSelector: {}\n  policyTypes: [\"Ingress\", \"Egress\"]", "  podSelector: {}\n  policyTypes: [\"Ingress\"]", "default-deny"},
		{"site open to the namespace", "networkpolicies.yaml", "        - namespaceSelector:\n            matchLabels:\n              familylinks-ingress: allow\n", "        - podSelector: {}\n        - namespaceSelector:\n            matchLabels:\n              familylinks-ingress: allow\n", "another pod of the namespace → "},
		{"Meilisearch open to all", "networkpolicies.yaml", "    - from:\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: familylinks\n      ports:\n        - port: 7700", "    - ports:\n        - port: 7700", "must be denied"},
		{"site cut from PostgreSQL", "networkpolicies.yaml", "              cnpg.io/cluster: familylinks-pg\n      ports:\n        - port: 5432\n          protocol: TCP\n    - to:", "              cnpg.io/cluster: familylinks-pg\n      ports:\n        - port: 5433\n          protocol: TCP\n    - to:", "PostgreSQL instance port 5432/TCP must be allowed"},
		{"site open to the internet", "networkpolicies.yaml", "        - port: 587\n          protocol: TCP\n        - port: 465\n          protocol: TCP\n", "", "port 443/TCP must be denied"},
		{"no DNS", "networkpolicies.yaml", "              k8s-app: kube-dns", "              k8s-app: coredns", "cluster DNS port 53"},
		{"migrate on a schedule", "migrate-cronjob.yaml", "suspend: true", "suspend: false", "suspend must be true"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := manifests(t)
			f, ok := fsys[tc.file]
			if !ok {
				t.Fatalf("no file %s", tc.file)
			}
			if strings.Count(string(f.Data), tc.old) != 1 {
				t.Fatalf("%s must contain %q exactly once, to be broken", tc.file, tc.old)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(string(f.Data), tc.old, tc.new, 1))}
			errs := run(fsys, c)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %d: %v", tc.want, len(errs), errs)
		})
	}
}
