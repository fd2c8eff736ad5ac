package i18n

var packInstallEN = map[string]string{}

var packInstallRU = map[string]string{}

var packInstallTG = map[string]string{}
