package ui

import (
	"errors"
	"slices"
	"testing"
)

var allStates = []runState{stIdle, stSaved, stPreparing, stRunning, stPausing, stStopping, stPaused, stDone, stRecovering}

var allEvents = []eventKind{evStart, evPause, evStop, evDiscard, evSavedFound, evReady, evPrepareFailed,
	evLoopEnded, evLoopFailed, evDeviceLost, evRecovered, evRecoverFailed, evModelReplaced}

// Every transition that changes something, written out; every other
// (state, event) pair must change nothing and do nothing.
func TestLifecycleTransitions(t *testing.T) {
	errBad := errors.New("bad")
	type key struct {
		s runState
		e event
	}
	type out struct {
		s   runState
		eff []effect
	}
	want := map[key]out{
		// start, resume, train again
		{stIdle, event{Kind: evStart}}:              {stPreparing, []effect{effBuildRun}},
		{stDone, event{Kind: evStart}}:              {stPreparing, []effect{effBuildRun}},
		{stIdle, event{Kind: evStart, Err: errBad}}: {stIdle, []effect{effShowError}},
		{stDone, event{Kind: evStart, Err: errBad}}: {stDone, []effect{effShowError}},
		{stSaved, event{Kind: evStart}}:             {stPreparing, []effect{effRestoreRun}},
		{stPaused, event{Kind: evStart}}:            {stRunning, []effect{effRunLoop}},
		// a run that would replace the page's model asks first
		{stIdle, event{Kind: evStart, Replaces: true}}:                  {stIdle, []effect{effConfirm}},
		{stDone, event{Kind: evStart, Replaces: true}}:                  {stDone, []effect{effConfirm}},
		{stIdle, event{Kind: evStart, Replaces: true, Confirmed: true}}: {stPreparing, []effect{effBuildRun}},
		{stDone, event{Kind: evStart, Replaces: true, Confirmed: true}}: {stPreparing, []effect{effBuildRun}},
		// resuming a run replaces nothing
		{stSaved, event{Kind: evStart, Replaces: true}}:                   {stPreparing, []effect{effRestoreRun}},
		{stPaused, event{Kind: evStart, Replaces: true}}:                  {stRunning, []effect{effRunLoop}},
		{stSaved, event{Kind: evStart, Replaces: true, Confirmed: true}}:  {stPreparing, []effect{effRestoreRun}},
		{stPaused, event{Kind: evStart, Replaces: true, Confirmed: true}}: {stRunning, []effect{effRunLoop}},
		// another model shown after a finished run: its checkpoint is offered again
		{stDone, event{Kind: evModelReplaced}}: {stIdle, []effect{effDropRun, effCheckSaved}},
		// resuming needs no form
		{stSaved, event{Kind: evStart, Err: errBad}}:    {stPreparing, []effect{effRestoreRun}},
		{stPaused, event{Kind: evStart, Err: errBad}}:   {stRunning, []effect{effRunLoop}},
		{stPreparing, event{Kind: evReady}}:             {stRunning, []effect{effRunLoop}},
		{stPreparing, event{Kind: evReady, Done: true}}: {stDone, []effect{effPreview}},
		{stPreparing, event{Kind: evPrepareFailed}}:     {stIdle, []effect{effShowError, effDropRun, effCheckSaved}},
		// pause and resume, stop
		{stRunning, event{Kind: evPause}}:                  {stPausing, []effect{effPauseLoop}},
		{stRunning, event{Kind: evLoopEnded}}:              {stPaused, []effect{effPreview}},
		{stPausing, event{Kind: evLoopEnded}}:              {stPaused, []effect{effPreview}},
		{stRunning, event{Kind: evLoopEnded, Done: true}}:  {stDone, []effect{effPreview}},
		{stPausing, event{Kind: evLoopEnded, Done: true}}:  {stDone, []effect{effPreview}},
		{stRunning, event{Kind: evStop}}:                   {stStopping, []effect{effPauseLoop}},
		{stPausing, event{Kind: evStop}}:                   {stStopping, []effect{effPauseLoop}},
		{stStopping, event{Kind: evLoopEnded}}:             {stIdle, []effect{effForget}},
		{stStopping, event{Kind: evLoopEnded, Done: true}}: {stIdle, []effect{effForget}},
		{stPaused, event{Kind: evStop}}:                    {stIdle, []effect{effForget}},
		{stDone, event{Kind: evStop}}:                      {stIdle, []effect{effForget}},
		// saved runs
		{stIdle, event{Kind: evSavedFound}}: {stSaved, nil},
		{stSaved, event{Kind: evDiscard}}:   {stIdle, []effect{effForget}},
		// failure: the run is dropped, the last checkpoint offered again
		{stRunning, event{Kind: evLoopFailed}}:  {stIdle, []effect{effShowError, effDropRun, effCheckSaved}},
		{stPausing, event{Kind: evLoopFailed}}:  {stIdle, []effect{effShowError, effDropRun, effCheckSaved}},
		{stStopping, event{Kind: evLoopFailed}}: {stIdle, []effect{effShowError, effDropRun, effCheckSaved}},
		// device loss: the run comes back on the CPU, paused
		{stPreparing, event{Kind: evDeviceLost}}:             {stRecovering, []effect{effPauseLoop, effRecoverRun}},
		{stRunning, event{Kind: evDeviceLost}}:               {stRecovering, []effect{effPauseLoop, effRecoverRun}},
		{stPausing, event{Kind: evDeviceLost}}:               {stRecovering, []effect{effPauseLoop, effRecoverRun}},
		{stStopping, event{Kind: evDeviceLost}}:              {stRecovering, []effect{effPauseLoop, effRecoverRun}},
		{stPaused, event{Kind: evDeviceLost}}:                {stRecovering, []effect{effPauseLoop, effRecoverRun}},
		{stDone, event{Kind: evDeviceLost}}:                  {stRecovering, []effect{effPauseLoop, effRecoverRun}},
		{stRecovering, event{Kind: evRecovered}}:             {stPaused, []effect{effPreview}},
		{stRecovering, event{Kind: evRecovered, Done: true}}: {stDone, []effect{effPreview}},
		{stRecovering, event{Kind: evRecoverFailed}}:         {stIdle, []effect{effShowError, effDropRun, effFreshModel}},
	}
	for _, s := range allStates {
		for _, k := range allEvents {
			for _, e := range []event{{Kind: k}, {Kind: k, Done: true}, {Kind: k, Err: errBad},
				{Kind: k, Replaces: true}, {Kind: k, Replaces: true, Confirmed: true}} {
				got, eff := next(s, e)
				w, ok := want[key{s, relevant(e)}]
				if !ok {
					w = out{s, nil}
				}
				if got != w.s || !slices.Equal(eff, w.eff) {
					t.Errorf("%v (%d) + event %d (done %v, err %v): %v (%d) %v, want %v (%d) %v",
						s, s, e.Kind, e.Done, e.Err, got, got, eff, w.s, w.s, w.eff)
				}
			}
		}
	}
}

// relevant keeps what the machine reads of an event: Done of the
// completion events and, of evStart, whether it has an error (the table
// writes it as errBad; a failure's error is only shown) and the
// replacement flags.
func relevant(e event) event {
	r := event{Kind: e.Kind}
	switch e.Kind {
	case evReady, evLoopEnded, evRecovered:
		r.Done = e.Done
	case evStart:
		r.Err, r.Replaces, r.Confirmed = e.Err, e.Replaces, e.Confirmed
	}
	return r
}

// A paused run survives pause, resume, a device loss and a failure in a
// full sequence, and the states show as the page names them.
func TestLifecycleSequence(t *testing.T) {
	s := stIdle
	steps := []struct {
		e    event
		want string
	}{
		{event{Kind: evStart}, "running"},      // preparing
		{event{Kind: evReady}, "running"},      // looping
		{event{Kind: evPause}, "pausing"},      //
		{event{Kind: evLoopEnded}, "paused"},   // checkpoint saved
		{event{Kind: evStart}, "running"},      // resume
		{event{Kind: evDeviceLost}, "pausing"}, // recovering on the CPU
		{event{Kind: evRecovered}, "paused"},   //
		{event{Kind: evStart}, "running"},      //
		{event{Kind: evLoopFailed, Err: errors.New("loss is NaN")}, "idle"},
		{event{Kind: evSavedFound}, "idle"}, // saved: Start restores the last checkpoint
		{event{Kind: evStart}, "running"},
		{event{Kind: evReady, Done: true}, "done"},
		{event{Kind: evStop}, "idle"},
	}
	for i, st := range steps {
		s, _ = next(s, st.e)
		if s.String() != st.want {
			t.Fatalf("step %d: %v, want %s", i, s, st.want)
		}
	}
	for _, s := range allStates {
		if s.active() && (!s.ownsModel() || !s.locksModel()) {
			t.Errorf("%d is active but does not own or lock the model", s)
		}
	}
}
