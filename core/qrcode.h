#pragma once

#include "expected.h"

#include <QImage>
#include <QString>

namespace SiteRelay {

/**
 * QR codes for enrollment links, drawn with Debian's libqrencode. Returns a QImage so the
 * dashboard can show it and the command line can save it; needs no QGuiApplication. Thread-safe.
 */
class QrCode
{
public:
    /**
     * Encodes @p text (UTF-8, error correction level M) as black modules on white with the
     * standard quiet zone of 4 modules, each module @p moduleSize pixels. Internal error if
     * libqrencode fails (e.g. text longer than a QR code holds).
     */
    static Expected<QImage> image(const QString &text, int moduleSize = 8);
    /// The same as a PNG file at @p path.
    static Expected<Done> savePng(const QString &text, const QString &path, int moduleSize = 8);
};

} // namespace SiteRelay
