package check

// Kustomization is the part of kustomize's Kustomization
// (kustomize.config.k8s.io/v1beta1) that kustomization.yaml uses, decoded
// strictly like the manifests. Field names follow kustomize's
// api/types/kustomization.go and api/types/image.go.
type Kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources,omitempty"`
	Images     []Image  `json:"images,omitempty"`
}

// Image replaces an image name and tag in every container.
type Image struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}
