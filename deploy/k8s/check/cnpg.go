package check

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Cluster is the part of CloudNativePG's Cluster (postgresql.cnpg.io/v1)
// that postgres-cluster.yaml uses. CloudNativePG's own Go module cannot be
// had from the module proxy this project uses, so these fields were copied
// by hand, names and types, from its api/v1/cluster_types.go (ClusterSpec,
// PostgresConfiguration, BootstrapConfiguration, BootstrapInitDB,
// StorageConfiguration). Decoding is strict, so a misspelt or unlisted field
// fails the check: before using a new field, look it up upstream and add it
// here.
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ClusterSpec `json:"spec"`
}

// ClusterSpec is the subset of CloudNativePG's ClusterSpec in use.
type ClusterSpec struct {
	Description           string                      `json:"description,omitempty"`
	ImageName             string                      `json:"imageName,omitempty"`
	Instances             int                         `json:"instances"`
	PrimaryUpdateStrategy string                      `json:"primaryUpdateStrategy,omitempty"` // unsupervised | supervised
	PrimaryUpdateMethod   string                      `json:"primaryUpdateMethod,omitempty"`   // switchover | restart
	PostgresConfiguration PostgresConfiguration       `json:"postgresql,omitempty"`
	Bootstrap             *BootstrapConfiguration     `json:"bootstrap,omitempty"`
	StorageConfiguration  StorageConfiguration        `json:"storage,omitempty"`
	Resources             corev1.ResourceRequirements `json:"resources,omitempty"`
}

// PostgresConfiguration holds postgresql.conf parameters.
type PostgresConfiguration struct {
	Parameters map[string]string `json:"parameters,omitempty"`
}

// BootstrapConfiguration says how the cluster is created (initdb here).
type BootstrapConfiguration struct {
	InitDB *BootstrapInitDB `json:"initdb,omitempty"`
}

// BootstrapInitDB creates the application database and its owner.
type BootstrapInitDB struct {
	Database      string                `json:"database,omitempty"`
	Owner         string                `json:"owner,omitempty"`
	Secret        *LocalObjectReference `json:"secret,omitempty"`
	DataChecksums *bool                 `json:"dataChecksums,omitempty"`
}

// LocalObjectReference names an object in the Cluster's namespace.
type LocalObjectReference struct {
	Name string `json:"name"`
}

// StorageConfiguration is the volume of each instance.
type StorageConfiguration struct {
	StorageClass *string `json:"storageClass,omitempty"`
	Size         string  `json:"size,omitempty"`
}
