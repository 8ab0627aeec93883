// Package check validates the Kubernetes manifests of deploy/k8s offline.
//
// Every document is decoded the way the API server decodes it: YAML to JSON
// refusing duplicate keys, then JSON into the API's own Go types
// (k8s.io/api), case-sensitively, refusing unknown and duplicate fields. On
// top of that, Check holds the manifests against each other and against the
// code: the probes hit the routes the site registers, every variable a
// container gets is one the binary reads and exists in the ConfigMap or a
// Secret template, selectors select the pods they mean, the network policies
// let through what the site needs and nothing else, the PostgreSQL
// connection budget fits. It needs no cluster and no download at run time.
package check

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Doc is one YAML document of a manifest file, decoded into its API type.
type Doc struct {
	File  string // path inside the manifest directory
	Index int    // position in a multi-document file, from 0
	metav1.TypeMeta
	Name      string
	Namespace string
	Obj       any // *appsv1.Deployment, *Cluster, …
}

func (d *Doc) String() string {
	return fmt.Sprintf("%s#%d (%s %s)", d.File, d.Index, d.Kind, d.Name)
}

// Set is everything under the manifest directory.
type Set struct {
	Kustomization *Kustomization
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
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"batch/v1/CronJob":                       func() any { return &batchv1.CronJob{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
	"postgresql.cnpg.io/v1/Cluster":          func() any { return &Cluster{} },
}

// Load reads and strictly decodes the manifests in fsys: kustomization.yaml,
// the other top-level *.yaml files and secrets/*.yaml.
func Load(fsys fs.FS) (*Set, error) {
	s := &Set{}
	raw, err := fs.ReadFile(fsys, "kustomization.yaml")
	if err != nil {
		return nil, err
	}
	s.Kustomization = &Kustomization{}
	if err := decodeStrict(raw, s.Kustomization); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	for _, dir := range []string{".", "secrets"} {
		names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if names2, _ := fs.Glob(fsys, path.Join(dir, "*.yml")); len(names2) > 0 {
			return nil, fmt.Errorf("%v: name manifests *.yaml", names2)
		}
		sort.Strings(names)
		for _, name := range names {
			if name == "kustomization.yaml" {
				continue
			}
			raw, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, err
			}
			docs, err := decodeFile(name, raw)
			if err != nil {
				return nil, err
			}
			if dir == "secrets" {
				s.Templates = append(s.Templates, docs...)
			} else {
				s.Docs = append(s.Docs, docs...)
			}
		}
	}
	return s, nil
}

// decodeFile splits a file into its documents and decodes each one.
func decodeFile(name string, raw []byte) ([]*Doc, error) {
	var docs []*Doc
	for i, part := range splitDocuments(raw) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(part, &tm); err != nil {
			return nil, fmt.Errorf("%s#%d: %w", name, i, err)
		}
		newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s#%d: apiVersion %q kind %q is not one the check knows (add its Go type to kinds)", name, i, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := decodeStrict(part, obj); err != nil {
			return nil, fmt.Errorf("%s#%d (%s): %w", name, i, tm.Kind, err)
		}
		meta, err := objectMeta(obj)
		if err != nil {
			return nil, fmt.Errorf("%s#%d: %w", name, i, err)
		}
		docs = append(docs, &Doc{File: name, Index: i, TypeMeta: tm, Name: meta.Name, Namespace: meta.Namespace, Obj: obj})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no document", name)
	}
	return docs, nil
}

// splitDocuments splits a YAML stream on "---" lines, dropping documents
// that hold only comments or blank lines.
func splitDocuments(raw []byte) [][]byte {
	var out [][]byte
	var cur bytes.Buffer
	flush := func() {
		if hasContent(cur.Bytes()) {
			out = append(out, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if strings.TrimRight(line, " \t\r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

func hasContent(b []byte) bool {
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// decodeStrict decodes one YAML document as the API server would: duplicate
// keys, unknown fields and fields in the wrong case are errors.
func decodeStrict(doc []byte, into any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := json.UnmarshalStrict(j, into, json.DisallowDuplicateFields, json.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}

func objectMeta(obj any) (*metav1.ObjectMeta, error) {
	m, ok := obj.(interface{ GetObjectMeta() metav1.Object })
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	om, ok := m.GetObjectMeta().(*metav1.ObjectMeta)
	if !ok {
		return nil, fmt.Errorf("%T: unexpected metadata type", obj)
	}
	return om, nil
}

// Of returns the documents of type T.
func Of[T any](docs []*Doc) []T {
	var out []T
	for _, d := range docs {
		if v, ok := d.Obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// docOf finds the document holding obj, for messages.
func (s *Set) docOf(obj any) *Doc {
	for _, d := range append(append([]*Doc(nil), s.Docs...), s.Templates...) {
		if d.Obj == obj {
			return d
		}
	}
	return &Doc{File: "?"}
}
