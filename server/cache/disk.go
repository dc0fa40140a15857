package cache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Disk is the store on the local file system: one file per entry,
// named by its key, written to a temporary file and renamed into place
// (a reader never sees half an entry, a crash leaves at most a stray
// temporary that the next start removes). The bytes held are bounded:
// past the bound the oldest files are removed.
type Disk struct {
	dir   string
	bound int64

	mu    sync.Mutex
	used  int64
	files map[string]diskFile
}

type diskFile struct {
	size int64
	mod  time.Time
}

// NewDisk opens (creating it) the directory dir and accounts what it
// already holds against bound.
func NewDisk(dir string, bound int64) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	d := &Disk{dir: dir, bound: bound, files: map[string]diskFile{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, de := range ents {
		name := de.Name()
		if !de.Type().IsRegular() {
			continue
		}
		if filepath.Ext(name) == ".tmp" {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if len(name) != 64 {
			continue // not ours
		}
		if fi, err := de.Info(); err == nil {
			d.files[name] = diskFile{fi.Size(), fi.ModTime()}
			d.used += fi.Size()
		}
	}
	d.mu.Lock()
	d.evict(0)
	d.mu.Unlock()
	return d, nil
}

// Name implements Store.
func (d *Disk) Name() string { return "disk" }

// Close implements Store.
func (d *Disk) Close() error { return nil }

// Get implements Store.
func (d *Disk) Get(_ context.Context, k *Key, now time.Time) (*Entry, error) {
	name := string(k.Hex(nil))
	b, err := os.ReadFile(filepath.Join(d.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e, err := Decode(b)
	if err != nil || e.Expired(now) {
		d.drop(name)
		return nil, nil
	}
	return e, nil
}

// Set implements Store. ttl is kept in the entry (Expires), which the
// caller sets.
func (d *Disk) Set(_ context.Context, k *Key, e *Entry, _ time.Duration) error {
	b := e.Encode(nil)
	if int64(len(b)) > d.bound {
		return nil
	}
	name := string(k.Hex(nil))
	f, err := os.CreateTemp(d.dir, name+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(d.dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d.mu.Lock()
	if old, ok := d.files[name]; ok {
		d.used -= old.size
	}
	d.files[name] = diskFile{int64(len(b)), time.Now()}
	d.used += int64(len(b))
	d.evict(0)
	d.mu.Unlock()
	return nil
}

// Used returns the bytes the store holds.
func (d *Disk) Used() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used
}

func (d *Disk) drop(name string) {
	_ = os.Remove(filepath.Join(d.dir, name))
	d.mu.Lock()
	if old, ok := d.files[name]; ok {
		d.used -= old.size
		delete(d.files, name)
	}
	d.mu.Unlock()
}

// evict removes the oldest files once used+extra passes the bound,
// down to nine tenths of it (so a full store sorts its files once per
// tenth of the bound written, not on every write). Called with mu held.
func (d *Disk) evict(extra int64) {
	if d.used+extra <= d.bound {
		return
	}
	extra += d.bound / 10
	names := make([]string, 0, len(d.files))
	for n := range d.files {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return d.files[names[i]].mod.Before(d.files[names[j]].mod) })
	for _, n := range names {
		if d.used+extra <= d.bound {
			break
		}
		_ = os.Remove(filepath.Join(d.dir, n))
		d.used -= d.files[n].size
		delete(d.files, n)
	}
}
