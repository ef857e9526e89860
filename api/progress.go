package api

// ContentTypeNDJSON is the media type of streamed answers: one JSON value
// per line.
const ContentTypeNDJSON = "application/x-ndjson"

// ProcessRef names one process: its pm_id and its app's name.
type ProcessRef struct {
	PMID int    `json:"pm_id"`
	Name string `json:"name"`
}

// ActionStep is one process an action has finished with: how long the
// action took on it, and its error if it failed there.
type ActionStep struct {
	ProcessRef
	// Ms is the time the action took on this process, in milliseconds.
	Ms    int64  `json:"ms"`
	Error string `json:"error,omitempty"`
}

// ActionProgress is one line of the answer to an ActionRequest with
// Progress set, an NDJSON stream (Content-Type ContentTypeNDJSON):
//
//	{"targets":[{"pm_id":1,"name":"api"},{"pm_id":2,"name":"api"}]}
//	{"step":{"pm_id":2,"name":"api","ms":412}}
//	{"step":{"pm_id":1,"name":"api","ms":430}}
//	{"done":{"processes":[...]}}
//
// First the processes the selectors picked, then one step per process as
// the action finishes with it (in completion order), then the end: Done,
// the ActionResponse a request without Progress gets, or Error when the
// action failed after it began. A request that fails before anything
// starts (a selector that matches nothing, say) gets the usual error body
// and status instead of a stream. A daemon that predates Progress ignores
// it and answers with a plain ActionResponse; clients tell the two apart by
// the Content-Type.
type ActionProgress struct {
	Targets []ProcessRef    `json:"targets,omitempty"`
	Step    *ActionStep     `json:"step,omitempty"`
	Done    *ActionResponse `json:"done,omitempty"`
	Error   *ErrorInfo      `json:"error,omitempty"`
}

// StartProgress is one line of the answer to a StartRequest with Progress
// set, an NDJSON stream like ActionProgress's without the targets line
// (the processes a start touches are known only as it goes): one Step per
// process as it is started, restarted or replaced, then Done (the
// StartResponse a request without Progress gets) or Error. A request
// refused before any process was touched, or that touched none, gets the
// plain answer instead; clients tell them apart by the Content-Type.
type StartProgress struct {
	Step  *ActionStep    `json:"step,omitempty"`
	Done  *StartResponse `json:"done,omitempty"`
	Error *ErrorInfo     `json:"error,omitempty"`
}
