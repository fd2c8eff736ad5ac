package i18n

var giftEN = map[string]string{}

var giftRU = map[string]string{}

var giftTG = map[string]string{}
