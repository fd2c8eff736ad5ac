package i18n

// catalog holds every UI string. Each key must exist in every language (a
// test checks); plural messages have one key per CLDR category the language
// needs, as "key#one", "key#few", …. The Tajik strings await review by a
// native-speaking teacher, like the Tajik sample pack.
var catalog = map[string]map[string]string{
	"en": merged(messagesEN, classroomEN, pictureEN, studioEN, sharingEN, studioUIEN, previewEN, giftEN, packInstallEN, navEN, projectorEN),
	"ru": merged(messagesRU, classroomRU, pictureRU, studioRU, sharingRU, studioUIRU, previewRU, giftRU, packInstallRU, navRU, projectorRU),
	"tg": merged(messagesTG, classroomTG, pictureTG, studioTG, sharingTG, studioUITG, previewTG, giftTG, packInstallTG, navTG, projectorTG),
}

// merged is one catalogue made of the parts of a language's messages
// (messages_xx.go and the classroom's messages_classroom.go); a key in two
// parts is a mistake that panics at start, so every test finds it.
func merged(parts ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, p := range parts {
		for k, v := range p {
			if _, dup := out[k]; dup {
				panic("i18n: message " + k + " is defined twice")
			}
			out[k] = v
		}
	}
	return out
}
