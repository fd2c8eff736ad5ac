package server

import "strings"

// The way around: the header's menu, made for who is looking. Each role
// gets the pages it can open, and only those (a box without live sessions
// or sync shows no link to them); the first few are also shown as a bar
// on a laptop. The menu is a <details>, so it opens without JavaScript.
// docs/navigation.md lists every role's links.

// navLink is one entry of the menu.
type navLink struct {
	Href, Key string // Key: its i18n message
	Main      bool   // also in the laptop's bar
	Current   bool   // the page shown now
}

// navFor is the menu of v on the page at path.
func (s *Server) navFor(v *viewer, path string) []navLink {
	var links []navLink
	add := func(href, key string, main bool) {
		links = append(links, navLink{Href: href, Key: key, Main: main})
	}
	live := s.live != nil
	switch {
	case v.isStudent():
		add("/me", "nav.my_work", true)
		if live {
			add("/live", "nav.join_live", true)
		}
		add("/", "nav.catalogue", true)
	case v.isAdmin():
		add("/admin", "nav.admin", true)
		add("/teach", "nav.classes", true)
		if live {
			add("/live/new", "nav.start_live", true)
		}
		add("/teach/studio", "nav.studio", false)
		add("/admin/status", "nav.status", false)
		if s.sync != nil {
			add("/admin/sync", "nav.sync", false)
		}
		add("/admin/peers", "nav.peers", false)
		add("/connect", "nav.connect", false)
		add("/", "nav.catalogue", false)
	case v.isUser():
		add("/teach", "nav.classes", true)
		if live {
			add("/live/new", "nav.start_live", true)
		}
		add("/teach/studio", "nav.studio", true)
		add("/", "nav.catalogue", true)
		add("/connect", "nav.connect", false)
	default:
		add("/", "nav.catalogue", true)
		add("/student", "nav.student_sign_in", true)
		if live {
			add("/live", "nav.join_live", true)
		}
		add("/login", "nav.teacher_sign_in", false)
	}
	p, _, _ := strings.Cut(path, "?")
	for i := range links {
		links[i].Current = links[i].Href == p
	}
	return links
}
