package i18n

// The projector's messages (the live session's screen). Every key is in all
// three languages (TestCatalogIsComplete).

var projectorEN = map[string]string{
	"live.screen_keys": "Keys: F — full screen; Space or → — next step (only in the teacher's browser)",
}

var projectorRU = map[string]string{
	"live.screen_keys": "Клавиши: F — во весь экран; пробел или → — следующий шаг (только в браузере учителя)",
}

var projectorTG = map[string]string{
	"live.screen_keys": "Тугмаҳо: F — ба тамоми экран; фосила ё → — қадами навбатӣ (танҳо дар браузери муаллим)",
}
