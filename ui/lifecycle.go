package ui

// The training lifecycle of the page as a pure state machine: next maps a
// state and an event to the next state and the effects the training
// component then carries out (effects report back with further events).
// It reads nothing and does nothing, so every transition is tested
// natively (lifecycle_test.go).

// runState is where the page's training run is.
type runState int

const (
	stIdle       runState = iota // no run in the page and none saved
	stSaved                      // a run is saved in storage, not loaded
	stPreparing                  // building a new run or restoring the saved one
	stRunning                    // the loop is taking steps
	stPausing                    // the loop was asked to pause
	stStopping                   // the loop was asked to end the run
	stPaused                     // a run in the page, not stepping
	stDone                       // a run in the page with every step taken
	stRecovering                 // restoring the run on the CPU after a device loss
)

// String is the state's name on the page (data-state, the stats line):
// preparing counts as running and recovering as pausing, as they look.
func (s runState) String() string {
	return [...]string{"idle", "idle", "running", "running", "pausing", "pausing", "paused", "done", "pausing"}[s]
}

// active: the run is being prepared or stepped; the form and Start are off.
func (s runState) active() bool {
	return s == stPreparing || s == stRunning || s == stPausing || s == stStopping || s == stRecovering
}

// ownsModel: a run lives in the page or is being made, and its model is
// (or is about to be) the page's; after a device loss the run brings it
// back from its checkpoint.
func (s runState) ownsModel() bool { return s != stIdle && s != stSaved }

// locksModel: no other model may be loaded (the run would lose it).
func (s runState) locksModel() bool { return s != stIdle && s != stSaved && s != stDone }

// eventKind is what happened.
type eventKind int

const (
	evStart         eventKind = iota // the Start / Resume button
	evPause                          // the Pause button
	evStop                           // the Stop button
	evDiscard                        // the Discard saved run button
	evSavedFound                     // storage holds a run (at start-up, or after a failure)
	evReady                          // the run was built or restored (Done: it has every step)
	evPrepareFailed                  // building or restoring failed (Err)
	evLoopEnded                      // the loop returned (Done: the run is complete)
	evLoopFailed                     // the loop stopped on an error (Err)
	evDeviceLost                     // the backend moved to the CPU while a run was in the page
	evRecovered                      // the run was restored on the CPU (Done as for evReady)
	evRecoverFailed                  // it could not be (Err)
	evModelReplaced                  // another model took the page's model from a finished run
)

// event is one input of the machine.
type event struct {
	Kind eventKind
	Done bool  // evReady, evLoopEnded, evRecovered: every step is taken
	Err  error // the failures; for evStart, why the form is unusable
	// Replaces (evStart): the new run starts a fresh model in place of
	// the page's; Confirmed: the person agreed to that.
	Replaces, Confirmed bool
}

// effect is one thing the training component does after a transition.
type effect int

const (
	effShowError  effect = iota // show the event's error
	effBuildRun                 // gather the images, build a new run: evReady / evPrepareFailed
	effRestoreRun               // restore the saved run: evReady / evPrepareFailed
	effRunLoop                  // start the loop: evLoopEnded / evLoopFailed
	effPauseLoop                // ask the loop to stop after its step (it saves)
	effRecoverRun               // wait for the work in flight, restore the run on the CPU: evRecovered / evRecoverFailed
	effForget                   // drop the run and delete its saved checkpoint
	effDropRun                  // drop the run from the page (its checkpoint stays)
	effCheckSaved               // look for a saved run: evSavedFound
	effPreview                  // redraw the preview and the main view with the run's model
	effFreshModel               // show a freshly initialised model (the run's is lost)
	effConfirm                  // ask before replacing the model: evStart again with Confirmed
)

// next is the transition function. Events that do not apply in a state
// leave it unchanged, with no effect.
func next(s runState, e event) (runState, []effect) {
	switch e.Kind {
	case evStart:
		return onStart(s, e)
	case evPause:
		if s == stRunning {
			return stPausing, []effect{effPauseLoop}
		}
	case evStop:
		switch s {
		case stRunning, stPausing:
			return stStopping, []effect{effPauseLoop}
		case stPaused, stDone:
			return stIdle, []effect{effForget}
		}
	case evDiscard:
		if s == stSaved {
			return stIdle, []effect{effForget}
		}
	case evSavedFound:
		if s == stIdle {
			return stSaved, nil
		}
	case evReady:
		if s == stPreparing {
			if e.Done {
				return stDone, []effect{effPreview}
			}
			return stRunning, []effect{effRunLoop}
		}
	case evPrepareFailed:
		if s == stPreparing {
			return stIdle, []effect{effShowError, effDropRun, effCheckSaved}
		}
	case evLoopEnded:
		return onLoopEnded(s, e)
	case evLoopFailed:
		if s == stRunning || s == stPausing || s == stStopping {
			return stIdle, []effect{effShowError, effDropRun, effCheckSaved}
		}
	case evDeviceLost:
		if s.ownsModel() && s != stRecovering {
			return stRecovering, []effect{effPauseLoop, effRecoverRun}
		}
	case evRecovered:
		if s == stRecovering {
			if e.Done {
				return stDone, []effect{effPreview}
			}
			return stPaused, []effect{effPreview}
		}
	case evRecoverFailed:
		if s == stRecovering {
			return stIdle, []effect{effShowError, effDropRun, effFreshModel}
		}
	case evModelReplaced:
		// the run's checkpoint stays: it can be restored from the store
		if s == stDone {
			return stIdle, []effect{effDropRun, effCheckSaved}
		}
	}
	return s, nil
}

func onStart(s runState, e event) (runState, []effect) {
	switch s {
	case stSaved:
		return stPreparing, []effect{effRestoreRun}
	case stPaused:
		return stRunning, []effect{effRunLoop}
	case stIdle, stDone:
		if e.Err != nil {
			return s, []effect{effShowError}
		}
		if e.Replaces && !e.Confirmed {
			return s, []effect{effConfirm}
		}
		return stPreparing, []effect{effBuildRun}
	}
	return s, nil
}

func onLoopEnded(s runState, e event) (runState, []effect) {
	switch s {
	case stStopping:
		return stIdle, []effect{effForget}
	case stRunning, stPausing:
		if e.Done {
			return stDone, []effect{effPreview}
		}
		return stPaused, []effect{effPreview}
	}
	return s, nil
}
