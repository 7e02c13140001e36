#include "qrcode.h"

#include <qrencode.h>

#include <memory>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

Expected<QImage> QrCode::image(const QString &text, int moduleSize)
{
    constexpr int QuietZone = 4;
    const QByteArray utf8 = text.toUtf8();
    const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString8bit(utf8.constData(), 0, QR_ECLEVEL_M), &QRcode_free);
    if (!code)
        return Error{ErrorCode::Internal, u"cannot encode %1 characters as a QR code"_s.arg(utf8.size())};
    const int modules = code->width;
    const int side = (modules + 2 * QuietZone) * moduleSize;
    // Indexed 1-bit: the PNG stays small and exactly black and white, as scanners like it.
    QImage image(side, side, QImage::Format_Mono);
    image.setColor(0, qRgb(255, 255, 255));
    image.setColor(1, qRgb(0, 0, 0));
    image.fill(0);
    for (int y = 0; y < modules; ++y) {
        for (int x = 0; x < modules; ++x) {
            // Bit 0 of each byte is "dark"; the others are libqrencode's bookkeeping.
            if ((code->data[y * modules + x] & 1) == 0)
                continue;
            for (int dy = 0; dy < moduleSize; ++dy)
                for (int dx = 0; dx < moduleSize; ++dx)
                    image.setPixel((QuietZone + x) * moduleSize + dx, (QuietZone + y) * moduleSize + dy, 1);
        }
    }
    return image;
}

Expected<Done> QrCode::savePng(const QString &text, const QString &path, int moduleSize)
{
    auto drawn = image(text, moduleSize);
    if (!drawn)
        return drawn.error();
    if (!drawn->save(path, "PNG"))
        return Error{ErrorCode::InvalidArgument, u"cannot write the QR code to %1"_s.arg(path), u"--qr"_s};
    return Done{};
}

} // namespace SiteRelay
