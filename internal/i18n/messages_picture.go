package i18n

// The messages of internal/picture: why a teacher's picture was refused.
// Sizes are whole MB and megapixels (the picture's rounded up, the limit's
// down), so that "13 MB; at most 12 MB" never reads as equal.

var pictureEN = map[string]string{
	"picture.empty":           "The file is empty.",
	"picture.unsupported":     "This file is not a PNG, JPEG or WebP picture. Take a photo, or save the picture as PNG or JPEG.",
	"picture.too_big":         "The picture is %d MB; at most %d MB.",
	"picture.too_big_over":    "The picture is larger than %d MB, the most a picture may be.",
	"picture.too_many_pixels": "The picture is %d×%d pixels (%d MP); at most %d MP.",
	"picture.broken":          "The picture cannot be read: the file is damaged or incomplete.",
}

var pictureRU = map[string]string{
	"picture.empty":           "Файл пустой.",
	"picture.unsupported":     "Это не картинка PNG, JPEG или WebP. Сделайте фото или сохраните картинку как PNG или JPEG.",
	"picture.too_big":         "Картинка весит %d МБ; можно не больше %d МБ.",
	"picture.too_big_over":    "Картинка больше %d МБ — это наибольший допустимый размер.",
	"picture.too_many_pixels": "Картинка — %d×%d точек (%d Мп); можно не больше %d Мп.",
	"picture.broken":          "Картинку не удаётся прочитать: файл повреждён или загружен не полностью.",
}

var pictureTG = map[string]string{
	"picture.empty":           "Файл холӣ аст.",
	"picture.unsupported":     "Ин расми PNG, JPEG ё WebP нест. Акс гиред ё расмро ҳамчун PNG ё JPEG нигоҳ доред.",
	"picture.too_big":         "Ҳаҷми расм %d МБ аст; на зиёда аз %d МБ.",
	"picture.too_big_over":    "Расм аз %d МБ калонтар аст, ки ҳадди ниҳоии ҳаҷми расм мебошад.",
	"picture.too_many_pixels": "Расм %d×%d нуқта (%d Мп) аст; на зиёда аз %d Мп.",
	"picture.broken":          "Расмро хондан мумкин нест: файл вайрон ё нопурра аст.",
}
