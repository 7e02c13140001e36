#include "statestyle.h"

#include <QHash>
#include <QObject>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Okabe & Ito (2008), "Color Universal Design".
const QColor okabeBlack(0, 0, 0);
const QColor okabeOrange(0xE6, 0x9F, 0x00);
const QColor okabeSkyBlue(0x56, 0xB4, 0xE9);
const QColor okabeBluishGreen(0x00, 0x9E, 0x73);
const QColor okabeBlue(0x00, 0x72, 0xB2);
const QColor okabeVermillion(0xD5, 0x5E, 0x00);
const QColor okabeReddishPurple(0xCC, 0x79, 0xA7);
const QColor neutralGrey(0x80, 0x80, 0x80);

enum class Shape { HollowCircle, HalfCircle, Check, Triangle, Diamond, Cross, Slash, Warning };

Shape shapeFor(const QString &state)
{
    static const QHash<QString, Shape> shapes{
        {u"pending"_s, Shape::HollowCircle}, {u"processing"_s, Shape::HalfCircle}, {u"processed"_s, Shape::Check},
        {u"retrying"_s, Shape::Triangle},    {u"timed_out"_s, Shape::Diamond},     {u"failed"_s, Shape::Cross},
        {u"cancelled"_s, Shape::Slash},
    };
    return shapes.value(state, Shape::HollowCircle);
}

QPixmap paint(Shape shape, const QColor &color, int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    const qreal m = size * 0.12;
    const QRectF r(m, m, size - 2 * m, size - 2 * m);
    QPen pen(color.darker(115), size / 8.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    p.setPen(pen);
    switch (shape) {
    case Shape::HollowCircle:
        p.drawEllipse(r);
        break;
    case Shape::HalfCircle:
        p.drawEllipse(r);
        p.setBrush(color);
        p.drawPie(r, 90 * 16, 180 * 16);
        break;
    case Shape::Check:
        p.setBrush(color);
        p.drawEllipse(r);
        p.setPen(QPen(Qt::white, size / 7.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        p.drawPolyline(QPolygonF{{r.left() + r.width() * 0.25, r.center().y()},
                                 {r.left() + r.width() * 0.45, r.bottom() - r.height() * 0.25},
                                 {r.right() - r.width() * 0.2, r.top() + r.height() * 0.25}});
        break;
    case Shape::Triangle: {
        p.setBrush(color);
        p.drawPolygon(QPolygonF{{r.center().x(), r.top()}, {r.right(), r.bottom()}, {r.left(), r.bottom()}});
        break;
    }
    case Shape::Diamond:
        p.setBrush(color);
        p.drawPolygon(QPolygonF{{r.center().x(), r.top()},
                                {r.right(), r.center().y()},
                                {r.center().x(), r.bottom()},
                                {r.left(), r.center().y()}});
        break;
    case Shape::Cross:
        p.setBrush(color);
        p.drawRect(r);
        p.setPen(QPen(Qt::white, size / 7.0, Qt::SolidLine, Qt::RoundCap));
        p.drawLine(r.topLeft() + QPointF(r.width() * 0.28, r.height() * 0.28),
                   r.bottomRight() - QPointF(r.width() * 0.28, r.height() * 0.28));
        p.drawLine(r.topRight() + QPointF(-r.width() * 0.28, r.height() * 0.28),
                   r.bottomLeft() + QPointF(r.width() * 0.28, -r.height() * 0.28));
        break;
    case Shape::Slash:
        p.drawEllipse(r);
        p.drawLine(r.topRight() + QPointF(-r.width() * 0.15, r.height() * 0.15),
                   r.bottomLeft() + QPointF(r.width() * 0.15, -r.height() * 0.15));
        break;
    case Shape::Warning: {
        p.setBrush(color);
        p.drawPolygon(QPolygonF{{r.center().x(), r.top()}, {r.right(), r.bottom()}, {r.left(), r.bottom()}});
        p.setPen(QPen(Qt::white, size / 8.0, Qt::SolidLine, Qt::RoundCap));
        p.drawLine(QPointF(r.center().x(), r.top() + r.height() * 0.35),
                   QPointF(r.center().x(), r.bottom() - r.height() * 0.32));
        p.drawPoint(QPointF(r.center().x(), r.bottom() - r.height() * 0.14));
        break;
    }
    }
    return pixmap;
}

QIcon makeIcon(Shape shape, const QColor &color)
{
    QIcon icon;
    for (int size : {16, 24, 32})
        icon.addPixmap(paint(shape, color, size));
    return icon;
}

} // namespace

QStringList StateStyle::states()
{
    return {u"pending"_s, u"processing"_s, u"processed"_s, u"retrying"_s, u"timed_out"_s, u"failed"_s, u"cancelled"_s};
}

QString StateStyle::label(const QString &state)
{
    static const QHash<QString, QString> labels{
        {u"pending"_s, QObject::tr("Pending")},     {u"processing"_s, QObject::tr("Processing")},
        {u"processed"_s, QObject::tr("Processed")}, {u"retrying"_s, QObject::tr("Retrying")},
        {u"timed_out"_s, QObject::tr("Timed out")}, {u"failed"_s, QObject::tr("Failed")},
        {u"cancelled"_s, QObject::tr("Cancelled")},
    };
    return labels.value(state, state);
}

QString StateStyle::description(const QString &state)
{
    static const QHash<QString, QString> texts{
        {u"pending"_s, QObject::tr("Stored, waiting for a worker")},
        {u"processing"_s, QObject::tr("An attempt is running")},
        {u"processed"_s, QObject::tr("Scored, report written, analysis done")},
        {u"retrying"_s, QObject::tr("The last attempt failed; another is scheduled")},
        {u"timed_out"_s, QObject::tr("Attempts ran out of time; retry it when the cause is fixed")},
        {u"failed"_s, QObject::tr("Cannot be processed as sent, or retries are exhausted")},
        {u"cancelled"_s, QObject::tr("Cancelled by a coordinator")},
    };
    return texts.value(state);
}

QColor StateStyle::color(const QString &state)
{
    static const QHash<QString, QColor> colors{
        {u"pending"_s, okabeSkyBlue},  {u"processing"_s, okabeBlue},         {u"processed"_s, okabeBluishGreen},
        {u"retrying"_s, okabeOrange},  {u"timed_out"_s, okabeReddishPurple}, {u"failed"_s, okabeVermillion},
        {u"cancelled"_s, neutralGrey},
    };
    return colors.value(state, okabeBlack);
}

QColor StateStyle::tint(const QString &state)
{
    QColor c = color(state);
    // 22 % of the colour over white.
    return QColor::fromRgbF(1 - 0.22f * (1 - c.redF()), 1 - 0.22f * (1 - c.greenF()), 1 - 0.22f * (1 - c.blueF()));
}

QIcon StateStyle::icon(const QString &state)
{
    static QHash<QString, QIcon> cache;
    auto it = cache.find(state);
    if (it == cache.end())
        it = cache.insert(state, makeIcon(shapeFor(state), color(state)));
    return *it;
}

QColor StateStyle::severityColor(const QString &severity)
{
    if (severity == "critical"_L1)
        return okabeVermillion;
    if (severity == "warning"_L1)
        return okabeOrange;
    return okabeBlue;
}

QIcon StateStyle::alertIcon(const QString &severity, bool acknowledged)
{
    static QHash<QString, QIcon> cache;
    const QString key = severity + (acknowledged ? u"+ack"_s : u""_s);
    auto it = cache.find(key);
    if (it == cache.end())
        it = cache.insert(key, makeIcon(Shape::Warning, acknowledged ? neutralGrey : severityColor(severity)));
    return *it;
}

} // namespace SiteRelay
