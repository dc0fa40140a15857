package cache

import (
	"context"
	"sync"
	"time"
)

// Memory is the local store: entries in this process, within a byte
// budget; the least recently used are evicted first, and expired ones
// when found.
type Memory struct {
	mu     sync.Mutex
	budget int
	used   int
	items  map[Key]*memItem
	// head is the most recently used, tail the next evicted.
	head, tail *memItem
	evicted    int64
}

type memItem struct {
	key        Key
	e          *Entry
	size       int
	prev, next *memItem
}

// NewMemory returns a memory store holding at most budget bytes.
func NewMemory(budget int) *Memory {
	return &Memory{budget: budget, items: map[Key]*memItem{}}
}

// Name implements Store.
func (m *Memory) Name() string { return "local" }

// Close implements Store.
func (m *Memory) Close() error { return nil }

// Get implements Store.
func (m *Memory) Get(_ context.Context, k *Key, now time.Time) (*Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it := m.items[*k]
	if it == nil {
		return nil, nil
	}
	if it.e.Expired(now) {
		m.remove(it)
		return nil, nil
	}
	m.unlink(it)
	m.pushFront(it)
	return it.e, nil
}

// Set implements Store. An entry larger than the whole budget is not
// kept.
func (m *Memory) Set(_ context.Context, k *Key, e *Entry, ttl time.Duration) error {
	size := e.Size()
	if size > m.budget {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.items[*k]; old != nil {
		m.remove(old)
	}
	for m.used+size > m.budget && m.tail != nil {
		m.remove(m.tail)
		m.evicted++
	}
	it := &memItem{key: *k, e: e, size: size}
	m.items[*k] = it
	m.used += size
	m.pushFront(it)
	return nil
}

// Stats returns the bytes held, the entries and how many were evicted
// for room.
func (m *Memory) Stats() (bytes, entries int, evicted int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used, len(m.items), m.evicted
}

func (m *Memory) remove(it *memItem) {
	m.unlink(it)
	delete(m.items, it.key)
	m.used -= it.size
}

func (m *Memory) unlink(it *memItem) {
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		m.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		m.tail = it.prev
	}
	it.prev, it.next = nil, nil
}

func (m *Memory) pushFront(it *memItem) {
	it.next = m.head
	if m.head != nil {
		m.head.prev = it
	}
	m.head = it
	if m.tail == nil {
		m.tail = it
	}
}
