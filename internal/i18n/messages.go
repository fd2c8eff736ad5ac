package i18n

// catalog holds every UI string. Each key must exist in every language (a
// test checks); plural messages have one key per CLDR category the language
// needs, as "key#one", "key#few", …. The Tajik strings await review by a
// native-speaking teacher, like the Tajik sample pack.
var catalog = map[string]map[string]string{
	"en": messagesEN,
	"ru": messagesRU,
	"tg": messagesTG,
}
