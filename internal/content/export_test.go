package content

// SetAfterFile lets tests simulate a crash in the middle of an install.
func (l *Library) SetAfterFile(f func(path string) error) { l.afterFile = f }
