package respstore

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Memory is a Store in this process: entries expire after ttl, and the
// oldest go first when there are more than maxEntries or they hold
// more than maxBytes.
type Memory struct {
	ttl        time.Duration
	maxEntries int
	maxBytes   int
	now        func() time.Time

	mu    sync.Mutex
	byID  map[string]*list.Element
	order list.List // oldest first
	bytes int
}

type memEntry struct {
	id      string
	e       *Entry
	expires time.Time
}

// NewMemory returns a memory store with those bounds (0 = default).
func NewMemory(ttl time.Duration, maxEntries, maxBytes int) *Memory {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Memory{ttl: ttl, maxEntries: maxEntries, maxBytes: maxBytes, now: time.Now, byID: map[string]*list.Element{}}
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id, owner string) (*Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byID[id]
	if !ok {
		return nil, false, nil
	}
	me := el.Value.(*memEntry)
	if !m.now().Before(me.expires) {
		m.remove(el)
		return nil, false, nil
	}
	if !ownedBy(me.e.Owner, owner) {
		return nil, false, nil
	}
	return me.e, true, nil
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, id string, e *Entry) error {
	if e.Owner == "" {
		return ErrNoOwner
	}
	if e.size() > m.maxBytes {
		return ErrTooLarge
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.byID[id]; ok {
		m.remove(el)
	}
	now := m.now()
	m.byID[id] = m.order.PushBack(&memEntry{id: id, e: e, expires: now.Add(m.ttl)})
	m.bytes += e.size()
	for m.order.Len() > m.maxEntries || m.bytes > m.maxBytes {
		m.remove(m.order.Front())
	}
	// Expired entries at the front go now rather than at their next Get.
	for el := m.order.Front(); el != nil && !now.Before(el.Value.(*memEntry).expires); el = m.order.Front() {
		m.remove(el)
	}
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, id, owner string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byID[id]
	if !ok || !ownedBy(el.Value.(*memEntry).e.Owner, owner) {
		return false, nil
	}
	expired := !m.now().Before(el.Value.(*memEntry).expires)
	m.remove(el)
	return !expired, nil
}

// Len is the number of entries held (expired ones included until
// they are dropped).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

func (m *Memory) remove(el *list.Element) {
	me := el.Value.(*memEntry)
	m.order.Remove(el)
	delete(m.byID, me.id)
	m.bytes -= me.e.size()
}
