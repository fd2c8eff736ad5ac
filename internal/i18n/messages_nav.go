package i18n

// The way around (the header's menu, a guest's ways in, a teacher's home)
// and the heatmap's needs-help flag. Every key is in all three languages
// (TestCatalogIsComplete).

var navEN = map[string]string{
	"nav.main":            "Main pages",
	"nav.menu":            "Menu",
	"nav.my_work":         "My work",
	"nav.join_live":       "Join a live quiz",
	"nav.admin":           "Box admin",
	"nav.classes":         "My classes",
	"nav.start_live":      "Start a live quiz",
	"nav.status":          "Box status",
	"nav.sync":            "Sync with the hub",
	"nav.peers":           "Packs on other boxes",
	"nav.connect":         "Connect a device",
	"nav.studio":          "Studio",
	"nav.student_sign_in": "Student sign-in",
	"nav.teacher_sign_in": "Teacher sign-in",

	"ways.title":        "Welcome",
	"ways.student":      "I am a student",
	"ways.student_text": "Find your class, tap your name, and see your work.",
	"ways.live_text":    "Type the code your teacher shows.",
	"ways.live_code":    "Live quiz code",
	"ways.teacher":      "I am a teacher",
	"ways.teacher_text": "Your classes, their progress, live quizzes.",

	"teach.assign":     "Assign",
	"teach.live":       "Live quiz",
	"teach.open_class": "Students and settings",

	"progress.needs_help":  "needs help",
	"heatmap.needs_help":   "Needs help",
	"heatmap.help_rule":    "Needs help: not mastered, and fewer than half right after %d or more answers, or the last %d answers wrong.",
	"heatmap.key":          "Key",
	"heatmap.key_started":  "Started: right of answered",
	"heatmap.key_mastered": "Mastered: %s",
}

var navRU = map[string]string{
	"nav.main":            "Главные страницы",
	"nav.menu":            "Меню",
	"nav.my_work":         "Мои задания",
	"nav.join_live":       "Войти в викторину",
	"nav.admin":           "Управление сервером",
	"nav.classes":         "Мои классы",
	"nav.start_live":      "Начать викторину",
	"nav.status":          "Состояние сервера",
	"nav.sync":            "Связь с центром",
	"nav.peers":           "Пакеты на других серверах",
	"nav.connect":         "Подключить устройство",
	"nav.studio":          "Студия",
	"nav.student_sign_in": "Вход для учеников",
	"nav.teacher_sign_in": "Вход для учителей",

	"ways.title":        "Добро пожаловать",
	"ways.student":      "Я ученик",
	"ways.student_text": "Найди свой класс, нажми на своё имя и смотри свои задания.",
	"ways.live_text":    "Введи код, который показывает учитель.",
	"ways.live_code":    "Код викторины",
	"ways.teacher":      "Я учитель",
	"ways.teacher_text": "Ваши классы, их успеваемость, викторины.",

	"teach.assign":     "Задать",
	"teach.live":       "Викторина",
	"teach.open_class": "Ученики и настройки",

	"progress.needs_help":  "нужна помощь",
	"heatmap.needs_help":   "Нужна помощь",
	"heatmap.help_rule":    "Нужна помощь: не освоено, и меньше половины верных после %d и более ответов или последние %d ответов неверны.",
	"heatmap.key":          "Обозначения",
	"heatmap.key_started":  "Начато: верных из данных ответов",
	"heatmap.key_mastered": "Освоено: %s",
}

var navTG = map[string]string{
	"nav.main":            "Саҳифаҳои асосӣ",
	"nav.menu":            "Меню",
	"nav.my_work":         "Супоришҳои ман",
	"nav.join_live":       "Ба викторина ворид шудан",
	"nav.admin":           "Идораи сервер",
	"nav.classes":         "Синфҳои ман",
	"nav.start_live":      "Викторинаро оғоз кардан",
	"nav.status":          "Ҳолати сервер",
	"nav.sync":            "Пайвастшавӣ бо марказ",
	"nav.peers":           "Бастаҳо дар серверҳои дигар",
	"nav.connect":         "Пайваст кардани дастгоҳ",
	"nav.studio":          "Студия",
	"nav.student_sign_in": "Вуруди хонандагон",
	"nav.teacher_sign_in": "Вуруди муаллимон",

	"ways.title":        "Хуш омадед",
	"ways.student":      "Ман хонанда ҳастам",
	"ways.student_text": "Синфи худро ёбед, ба номи худ зер кунед ва супоришҳоятонро бинед.",
	"ways.live_text":    "Рамзеро, ки муаллим нишон медиҳад, ворид кунед.",
	"ways.live_code":    "Рамзи викторина",
	"ways.teacher":      "Ман муаллим ҳастам",
	"ways.teacher_text": "Синфҳои шумо, пешрафти онҳо, викторинаҳо.",

	"teach.assign":     "Супориш додан",
	"teach.live":       "Викторина",
	"teach.open_class": "Хонандагон ва танзимот",

	"progress.needs_help":  "ёрӣ лозим",
	"heatmap.needs_help":   "Ёрӣ лозим",
	"heatmap.help_rule":    "Ёрӣ лозим: аз худ нашудааст ва пас аз %d ё зиёда ҷавоб камтар аз нисфаш дуруст аст, ё %d ҷавоби охирин нодуруст аст.",
	"heatmap.key":          "Аломатҳо",
	"heatmap.key_started":  "Оғоз шуд: дуруст аз ҷавобҳои додашуда",
	"heatmap.key_mastered": "Аз худ шуд: %s",
}
