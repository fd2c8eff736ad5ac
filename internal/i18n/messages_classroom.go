package i18n

// The classroom's messages: rosters, sign-in cards, a student's answers.
// Kept apart from messages_xx.go so that each file stays readable; every
// key is in all three languages (TestCatalogIsComplete).

var classroomEN = map[string]string{
	"roster.row":                "Row %d: %s",
	"account.taken":             "The username %s is taken; choose another.",
	"account.bad_username":      "A username is 1–64 characters without spaces, slashes or colons.",
	"teach.class_invalid":       "A class needs a name of 1–60 characters and a grade from 1 to 12.",
	"class.csv_placeholder":     "name;gender;birth_year",
	"roster.refused_rows":       "Nothing was added. Fix these rows and import the file again:",
	"roster.err.read":           "the file could not be read: %s",
	"roster.err.too_large":      "the file is larger than %d KB",
	"roster.err.empty":          "the file is empty",
	"roster.err.csv":            "the row cannot be read as CSV (%s); check the quotation marks",
	"roster.err.no_name_column": "the first row must name the columns, and one must hold the names (Name, ФИО or Ному насаб); it reads: %s",
	"roster.err.name_empty":     "the name is empty",
	"roster.err.name_long":      "the name is longer than %d characters",
	"roster.err.duplicate":      "“%s” is also on row %d; names in a class must differ (add an initial)",
	"roster.err.gender":         "gender “%s” is not understood; write F or M (also Д/Ж/З or М/П, or a word such as girl, boy), or leave it empty",
	"roster.err.birth_year":     "birth year “%s” is not a year between %d and %d",
	"roster.err.pin":            "PIN “%s” is not 4 digits",
	"roster.err.too_many":       "more than %d students in one file",
	"roster.err.no_students":    "no students in the file",
	"roster.err.in_class":       "the class already has a student called “%s”",
}

var classroomRU = map[string]string{
	"roster.row":                "Строка %d: %s",
	"account.taken":             "Имя пользователя %s уже занято; выберите другое.",
	"account.bad_username":      "Имя пользователя — от 1 до 64 символов, без пробелов, косых черт и двоеточий.",
	"teach.class_invalid":       "У класса должно быть название от 1 до 60 символов и номер от 1 до 12.",
	"class.csv_placeholder":     "ФИО;Пол;Год рождения",
	"roster.refused_rows":       "Ничего не добавлено. Исправьте эти строки и загрузите файл снова:",
	"roster.err.read":           "не удалось прочитать файл: %s",
	"roster.err.too_large":      "файл больше %d КБ",
	"roster.err.empty":          "файл пустой",
	"roster.err.csv":            "строку не удаётся прочитать как CSV (%s); проверьте кавычки",
	"roster.err.no_name_column": "в первой строке должны быть названия столбцов, и один из них — с именами (ФИО, Имя или Name); сейчас там: %s",
	"roster.err.name_empty":     "имя пустое",
	"roster.err.name_long":      "имя длиннее %d символов",
	"roster.err.duplicate":      "«%s» есть и в строке %d; имена в классе должны различаться (добавьте инициал)",
	"roster.err.gender":         "пол «%s» не понятен; напишите Ж или М (также Д, девочка, мальчик, F, M) или оставьте пустым",
	"roster.err.birth_year":     "год рождения «%s» — не год между %d и %d",
	"roster.err.pin":            "PIN «%s» — не 4 цифры",
	"roster.err.too_many":       "в одном файле больше %d учеников",
	"roster.err.no_students":    "в файле нет учеников",
	"roster.err.in_class":       "в классе уже есть ученик «%s»",
}

var classroomTG = map[string]string{
	"roster.row":                "Сатри %d: %s",
	"account.taken":             "Номи корбарии %s аллакай банд аст; дигареро интихоб кунед.",
	"account.bad_username":      "Номи корбар аз 1 то 64 аломат аст, бе фосила, хатти моил ва ду нуқта.",
	"teach.class_invalid":       "Синф бояд номи аз 1 то 60 аломат ва рақами аз 1 то 12 дошта бошад.",
	"class.csv_placeholder":     "Ному насаб;Ҷинс;Соли таваллуд",
	"roster.refused_rows":       "Ҳеҷ чиз илова нашуд. Ин сатрҳоро ислоҳ кунед ва файлро аз нав ворид кунед:",
	"roster.err.read":           "файлро хондан нашуд: %s",
	"roster.err.too_large":      "файл аз %d КБ калонтар аст",
	"roster.err.empty":          "файл холӣ аст",
	"roster.err.csv":            "сатрро ҳамчун CSV хондан нашуд (%s); нохунакҳоро санҷед",
	"roster.err.no_name_column": "дар сатри аввал бояд номи сутунҳо бошад, ва яке аз онҳо — бо номҳо (Ному насаб, Ном ё Name); ҳоло дар он: %s",
	"roster.err.name_empty":     "ном холӣ аст",
	"roster.err.name_long":      "ном аз %d аломат дарозтар аст",
	"roster.err.duplicate":      "«%s» дар сатри %d низ ҳаст; номҳо дар синф бояд фарқ кунанд (ҳарфи аввали насабро илова кунед)",
	"roster.err.gender":         "ҷинси «%s» фаҳмо нест; Д ё П нависед (инчунин духтар, писар, Ж, М, F, M) ё холӣ гузоред",
	"roster.err.birth_year":     "соли таваллуди «%s» соли байни %d ва %d нест",
	"roster.err.pin":            "PIN-и «%s» 4 рақам нест",
	"roster.err.too_many":       "дар як файл зиёда аз %d хонанда",
	"roster.err.no_students":    "дар файл хонанда нест",
	"roster.err.in_class":       "дар синф аллакай хонанда бо номи «%s» ҳаст",
}
