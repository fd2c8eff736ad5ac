package i18n

// The studio's formula preview (POST /teach/studio/preview, preview.js).
// Every key is in all three languages (TestCatalogIsComplete).

var previewEN = map[string]string{
	"preview.tex_error":       "This formula has a mistake.",
	"preview.tex_undefined":   "This formula uses %s, a command KaTeX does not know (check its spelling).",
	"preview.tex_not_allowed": "%s is not allowed in a formula: links and pictures go in the text, not in TeX.",
	"preview.tex_unclosed":    "$$ is not closed: end the formula with $$.",
	"preview.tex_too_complex": "This formula is nested too deeply or takes too long to show.",
	"preview.tex_at":          "(near character %d of the formula)",
	"preview.too_long":        "The text is too long to preview: at most %d KB.",
	"preview.problem":         "This text cannot be shown yet: %s",
	"preview.bad_link":        "the link %s is not allowed: use http://, https:// or mailto: links, and pictures added to the draft.",
	"preview.offline":         "Preview not available offline",
	"preview.title":           "Preview",
	"preview.form_expired":    "This form has expired: reload the page.",
}

var previewRU = map[string]string{
	"preview.tex_error":       "В формуле ошибка.",
	"preview.tex_undefined":   "В формуле есть %s — команда, которую KaTeX не знает (проверьте написание).",
	"preview.tex_not_allowed": "%s нельзя использовать в формуле: ссылки и картинки вставляйте в текст, а не в TeX.",
	"preview.tex_unclosed":    "$$ не закрыт: закончите формулу знаком $$.",
	"preview.tex_too_complex": "Формула слишком глубоко вложена или слишком долго рисуется.",
	"preview.tex_at":          "(около символа %d формулы)",
	"preview.too_long":        "Текст слишком длинный для предпросмотра: не более %d КБ.",
	"preview.problem":         "Этот текст пока нельзя показать: %s",
	"preview.bad_link":        "ссылка %s не разрешена: используйте ссылки http://, https:// или mailto: и картинки, добавленные в черновик.",
	"preview.offline":         "Предпросмотр недоступен без связи с сервером",
	"preview.title":           "Предпросмотр",
	"preview.form_expired":    "Форма устарела: обновите страницу.",
}

var previewTG = map[string]string{
	"preview.tex_error":       "Дар формула хато ҳаст.",
	"preview.tex_undefined":   "Дар формула %s ҳаст — фармоне, ки KaTeX намедонад (навишташро санҷед).",
	"preview.tex_not_allowed": "%s дар формула иҷозат нест: истинодҳо ва расмҳоро ба матн гузоред, на ба TeX.",
	"preview.tex_unclosed":    "$$ баста нашудааст: формуларо бо $$ анҷом диҳед.",
	"preview.tex_too_complex": "Формула хеле чуқур дохилшуда аст ё кашидани он хеле дароз мекашад.",
	"preview.tex_at":          "(дар наздикии аломати %d-уми формула)",
	"preview.too_long":        "Матн барои пешнамоиш хеле дароз аст: на зиёда аз %d КБ.",
	"preview.problem":         "Ин матнро ҳоло нишон додан мумкин нест: %s",
	"preview.bad_link":        "истиноди %s иҷозат нест: истинодҳои http://, https:// ё mailto: ва расмҳои ба сиёҳнавис иловашударо истифода баред.",
	"preview.offline":         "Пешнамоиш бе пайвастшавӣ ба сервер дастрас нест",
	"preview.title":           "Пешнамоиш",
	"preview.form_expired":    "Мӯҳлати форма гузашт: саҳифаро аз нав боргирӣ кунед.",
}
