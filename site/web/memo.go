package web

import "sync"

// Memo is a map that keeps at most a fixed number of entries, forgetting
// one when it is full. It holds only values that are the same for every
// visitor and cheap to make again: rendered layouts, gallery cards and page
// contents. It is safe for concurrent use.
type Memo[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	max int
}

// NewMemo returns a Memo that keeps at most max entries.
func NewMemo[K comparable, V any](max int) *Memo[K, V] {
	return &Memo[K, V]{m: make(map[K]V), max: max}
}

// Get returns the value kept under k.
func (m *Memo[K, V]) Get(k K) (V, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.m[k]
	return v, ok
}

// Put keeps v under k.
func (m *Memo[K, V]) Put(k K, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[k]; !ok && len(m.m) >= m.max {
		// Map order is unspecified, so this forgets an entry close to at
		// random: no bookkeeping on the read path.
		for old := range m.m {
			delete(m.m, old)
			break
		}
	}
	m.m[k] = v
}

// Len is the number of entries kept.
func (m *Memo[K, V]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}
