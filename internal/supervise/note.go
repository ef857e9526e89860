package supervise

// Note sets the reason the process shows (tend_reason, describe's
// "reason") without touching its run: the daemon says why it acted on the
// app by itself, say a restart for its memory limit. The next launch clears
// it, as it clears every reason.
func (p *Proc) Note(reason string) {
	_ = p.call(false, func(reply func(error)) {
		p.st.reason = reason
		reply(nil)
	})
}
