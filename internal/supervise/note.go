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

// Automatic says that tend is about to replace the process by itself for
// reason (the daemon's memory limit): the reason shows at once, in the
// stop and reload events of the replacement too, and those events say
// manually: false. The next launch or reload clears it.
func (p *Proc) Automatic(reason string) {
	_ = p.call(false, func(reply func(error)) {
		p.st.reason = reason
		p.st.restartReason = reason
		p.st.automatic = true
		reply(nil)
	})
}
