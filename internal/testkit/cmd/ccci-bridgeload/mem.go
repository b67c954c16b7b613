package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mem is the bridge's memory from /proc/<pid>/status, in bytes, with the peaks of its parts.
// VmHWM is the kernel's own peak of the whole RSS; the kernel keeps no peak of RssAnon and
// RssFile, so the sampler keeps them, to say what the peak was made of.
type mem struct {
	rss, hwm   int64 // VmRSS now and VmHWM (the peak RSS, the figure the target is about)
	anon, file int64 // RssAnon (heap, stacks) and RssFile (the binary, bbolt's mmap) now
	shmem      int64 // RssShmem: bbolt's mmap when the store is on tmpfs
	peakAnon   int64 // the largest RssAnon the sampler saw
	peakFile   int64 // the largest RssFile (+ RssShmem) the sampler saw
}

func (m mem) String() string {
	shm := ""
	if m.shmem > 0 {
		shm = ", shmem " + mb(m.shmem)
	}
	return fmt.Sprintf("RSS %s (anon %s, file-backed %s: binary and bbolt mmap%s); peak VmHWM %s (sampled peaks: anon %s, file-backed %s)",
		mb(m.rss), mb(m.anon), mb(m.file), shm, mb(m.hwm), mb(m.peakAnon), mb(m.peakFile))
}

// readMem parses /proc/<pid>/status.
func readMem(pid int) (mem, error) {
	var m mem
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, fmt.Errorf("bridge status: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.rss = n << 10
		case "VmHWM":
			m.hwm = n << 10
		case "RssAnon":
			m.anon = n << 10
		case "RssFile":
			m.file = n << 10
		case "RssShmem":
			m.shmem = n << 10
		}
	}
	return m, nil
}

// memSampler reads the bridge's memory every sampleEvery until stopped.
type memSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu   sync.Mutex
	peak mem
}

// sampleEvery is the sampler's period: fine enough to catch a peak that lasts a GC cycle, and
// cheap (one small /proc read).
const sampleEvery = 100 * time.Millisecond

func startMemSampler(pid int) *memSampler {
	s := &memSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			_, _ = s.now() // the process may be gone at the end; snapshot reports that error
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// now reads the memory and folds it into the peaks.
func (s *memSampler) now() (mem, error) {
	m, err := readMem(s.pid)
	if err != nil {
		return m, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.peakAnon = max(s.peak.peakAnon, m.anon)
	s.peak.peakFile = max(s.peak.peakFile, m.file+m.shmem)
	m.peakAnon, m.peakFile = s.peak.peakAnon, s.peak.peakFile
	return m, nil
}

func (s *memSampler) close() {
	close(s.stop)
	<-s.done
}
