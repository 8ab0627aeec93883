package check

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Endpoint is one end of a connection, as NetworkPolicy sees it: a pod (its
// namespace's labels and its own) or an address outside the cluster.
type Endpoint struct {
	Name      string
	Namespace string            // "" for an address outside the cluster
	NSLabels  map[string]string // the namespace's labels
	Labels    map[string]string // the pod's labels
	Ports     map[string]int32  // the pod's named container ports
	IP        string            // for an address outside the cluster
}

// Policies evaluates the NetworkPolicies of one namespace, following the
// rules of networking/v1: a pod selected by no policy of a direction is open
// in that direction; a selected pod accepts what any selecting policy's rules
// allow. Only what these manifests use is modelled: pod and namespace
// selectors, ipBlock, numbered and named TCP/UDP ports.
type Policies struct {
	Namespace string
	List      []*networkingv1.NetworkPolicy
}

// Allowed reports whether src may open a connection to dst on port/proto:
// dst's ingress must allow it when dst is in the namespace, and src's egress
// when src is.
func (p *Policies) Allowed(src, dst Endpoint, port int32, proto corev1.Protocol) bool {
	if src.Namespace == p.Namespace && !p.allows(networkingv1.PolicyTypeEgress, src, dst, port, proto) {
		return false
	}
	if dst.Namespace == p.Namespace && !p.allows(networkingv1.PolicyTypeIngress, dst, src, port, proto) {
		return false
	}
	return true
}

// Accepts reports whether dst's ingress policies accept a connection from
// src, whatever src's own egress policies say: what a pod that someone
// else's policy lets out would find.
func (p *Policies) Accepts(dst, src Endpoint, port int32, proto corev1.Protocol) bool {
	return p.allows(networkingv1.PolicyTypeIngress, dst, src, port, proto)
}

// allows evaluates the policies that select subject in one direction;
// other is the far end, and the port is always on the receiving pod.
func (p *Policies) allows(dir networkingv1.PolicyType, subject, other Endpoint, port int32, proto corev1.Protocol) bool {
	receiver := subject
	if dir == networkingv1.PolicyTypeEgress {
		receiver = other
	}
	isolated := false
	for _, np := range p.List {
		if !matches(&np.Spec.PodSelector, subject.Labels) || !hasType(np, dir) {
			continue
		}
		isolated = true
		if dir == networkingv1.PolicyTypeIngress {
			for _, r := range np.Spec.Ingress {
				if portsMatch(r.Ports, receiver, port, proto) && p.peersMatch(r.From, other) {
					return true
				}
			}
		} else {
			for _, r := range np.Spec.Egress {
				if portsMatch(r.Ports, receiver, port, proto) && p.peersMatch(r.To, other) {
					return true
				}
			}
		}
	}
	return !isolated
}

func hasType(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	types := np.Spec.PolicyTypes
	if len(types) == 0 { // the API's default
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

func (p *Policies) peersMatch(peers []networkingv1.NetworkPolicyPeer, e Endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		switch {
		case peer.IPBlock != nil:
			if e.IP != "" && inBlock(peer.IPBlock, e.IP) {
				return true
			}
		case peer.NamespaceSelector != nil:
			if e.Namespace != "" && matches(peer.NamespaceSelector, e.NSLabels) &&
				(peer.PodSelector == nil || matches(peer.PodSelector, e.Labels)) {
				return true
			}
		case peer.PodSelector != nil:
			if e.Namespace == p.Namespace && matches(peer.PodSelector, e.Labels) {
				return true
			}
		}
	}
	return false
}

func portsMatch(ports []networkingv1.NetworkPolicyPort, receiver Endpoint, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, pp := range ports {
		want := corev1.ProtocolTCP
		if pp.Protocol != nil {
			want = *pp.Protocol
		}
		if want != proto {
			continue
		}
		if pp.Port == nil {
			return true
		}
		n := pp.Port.IntValue()
		if pp.Port.StrVal != "" {
			named, ok := receiver.Ports[pp.Port.StrVal]
			if !ok {
				continue
			}
			n = int(named)
		}
		end := int32(n)
		if pp.EndPort != nil {
			end = *pp.EndPort
		}
		if port >= int32(n) && port <= end {
			return true
		}
	}
	return false
}

func inBlock(b *networkingv1.IPBlock, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	pfx, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !pfx.Contains(addr) {
		return false
	}
	for _, ex := range b.Except {
		if e, err := netip.ParsePrefix(ex); err == nil && e.Contains(addr) {
			return false
		}
	}
	return true
}

// matches reports whether a label selector selects a label set; a selector
// that does not parse selects nothing.
func matches(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(set))
}
