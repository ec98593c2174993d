package ui

import (
	"fmt"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
)

// session owns the compute backend of one page, in one place: every use
// of it (a reconstruction, a training step or checkpoint, building a
// model) runs under its lock, one at a time, and the backend is replaced
// (by the CPU after a WebGPU device loss) only under the same lock.
// Components find it in the stateSession state.
type session struct {
	ctx    app.Context // the page's mount context, for work finished asynchronously
	mu     sync.Mutex
	k      backend.Kernels
	worker *workerRecon // the CPU engine's Web Worker, with the CPU backend; nil otherwise
	queue  reconQueue
}

// sessionRef is the value of stateSession (go-app copies state values, so
// the session travels as a pointer inside a struct).
type sessionRef struct{ s *session }

// do runs f with the backend, holding the lock.
func (s *session) do(f func(k backend.Kernels) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f(s.k)
}

// setBackend makes k the backend (at start-up, and the CPU after a
// device loss), once the work in progress is done.
func (s *session) setBackend(k backend.Kernels) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.k = k
	if s.worker == nil {
		s.worker = startWorkerFor(k)
	}
}

// lost reports whether err means the WebGPU device is gone and, if so,
// tells the page (actionDeviceLost; repeated reports are harmless).
func (s *session) lost(err error) bool {
	if !isDeviceLost(err) {
		return false
	}
	s.ctx.NewActionWithValue(actionDeviceLost, err)
	return true
}

// reconstruct queues a reconstruction; its done runs on the worker
// goroutine when it is finished (not when the device was lost).
func (s *session) reconstruct(j reconJob) {
	if s.queue.put(j) {
		s.ctx.Async(s.reconWorker)
	}
}

// reconWorker runs queued reconstructions, one at a time.
func (s *session) reconWorker() {
	for {
		j, ok := s.queue.take()
		if !ok {
			return
		}
		var out reconOutput
		err := s.do(func(backend.Kernels) (err error) {
			if s.worker.takes(j) {
				out, err = s.worker.run(j)
				gone := workerFailed(err)
				if gone == nil {
					return err
				}
				// The worker is gone: say so once and compute in the page.
				s.worker = nil
				dropWorkerNote(s.ctx)
				showError(s.ctx, fmt.Sprintf("%v; reconstructing in the page instead, which pauses the page while one runs.", gone))
			}
			out, err = j.run()
			return err
		})
		if s.lost(err) {
			continue
		}
		j.done(out, err)
		time.Sleep(time.Millisecond) // let the page paint between jobs
	}
}
