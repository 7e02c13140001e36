#include "reportrenderer.h"

#include "clock.h"
#include "logging.h"

#include <QBuffer>
#include <QColor>
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFont>
#include <QGuiApplication>
#include <QJsonValue>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>

#include <cmath>
#include <optional>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

namespace {

// 300 dpi is far more than text and rules need; the PDF is vector anyway, this only sets the
// painter's coordinate grid.
constexpr int Dpi = 300;

qreal mm(qreal millimetres)
{
    return millimetres * Dpi / 25.4;
}

qreal pt(qreal points)
{
    return points * Dpi / 72.0;
}

// Sober palette: near-black text, grey for labels and rules. Red marks alerts only, and never
// alone: alert boxes also have a heavy border, bold text and the words "Safety alert".
const QColor inkColor(0x1b, 0x1f, 0x24);
const QColor mutedColor(0x5a, 0x62, 0x6b);
const QColor ruleColor(0xb4, 0xbb, 0xc3);
const QColor shadeColor(0xee, 0xf1, 0xf4);
const QColor zebraColor(0xf7, 0xf8, 0xfa);
const QColor alertColor(0x8b, 0x10, 0x10);
const QColor alertFillColor(0xfc, 0xee, 0xee);

Error cancelled()
{
    return {ErrorCode::Internal, u"Rendering the report was cancelled."_s, QString(), u"cancelled"_s};
}

/// "2024-05-01 10:15:30 UTC" for a parseable ISO 8601 time, else the string as given.
QString utcText(const QString &iso)
{
    const QDateTime time = QDateTime::fromString(iso, Qt::ISODateWithMs);
    if (!time.isValid())
        return iso.isEmpty() ? u"—"_s : iso;
    return time.toUTC().toString(u"yyyy-MM-dd HH:mm:ss 'UTC'"_s);
}

std::optional<int> intAnswer(const QJsonValue &value)
{
    if (!value.isDouble())
        return std::nullopt;
    const double number = value.toDouble();
    if (std::trunc(number) != number || std::abs(number) > 1e9)
        return std::nullopt;
    return static_cast<int>(number);
}

/**
 * Lays the page out top to bottom, measuring every block with the painter's own font metrics.
 * The same code measures (draw = false) and paints (draw = true), so what was measured to fit is
 * exactly what is drawn. Every size is multiplied by scale, which render() lowers until the page
 * fits.
 */
class PageLayout
{
public:
    PageLayout(QPainter &painter, const QRectF &page, const ReportInput &input, qreal scale, bool draw)
        : m_painter(painter)
        , m_page(page)
        , m_in(input)
        , m_scale(scale)
        , m_draw(draw)
    {}

    /// Lays out everything; false when isCanceled fired part-way (only polled while drawing).
    bool run(const std::function<bool()> &isCanceled);
    /// Whether the body ended above the footer.
    bool fits() const { return m_bodyBottom <= m_footerTop; }

private:
    QFont font(qreal points, QFont::Weight weight = QFont::Normal, bool italic = false) const;
    qreal s(qreal length) const { return length * m_scale; }
    qreal textHeight(const QFont &font, qreal width, const QString &text, int flags = 0) const;
    /// Draws wrapped text at (x, y) within width; returns its height.
    qreal text(qreal x, qreal y, qreal width, const QFont &font, const QColor &color, const QString &text,
               int flags = Qt::AlignLeft);
    void fillRect(const QRectF &rect, const QColor &fill);
    void frameRect(const QRectF &rect, const QColor &color, qreal width);
    void hLine(qreal y, qreal x1, qreal x2, const QColor &color, qreal width);

    qreal footer(); // returns the footer's top
    void header();
    void identifiers();
    void scoreBox();
    void alertBox();
    bool itemTable(const std::function<bool()> &isCanceled);

    QPainter &m_painter;
    const QRectF m_page;
    const ReportInput &m_in;
    const qreal m_scale;
    bool m_draw; // false while measuring: the same code paths lay out without painting
    qreal m_y = 0;
    qreal m_footerTop = 0;
    qreal m_bodyBottom = 0;
};

QFont PageLayout::font(qreal points, QFont::Weight weight, bool italic) const
{
    // DejaVu ships with every Qt installation on Debian (fontconfig depends on it) and covers the
    // dashes, quotes and ⚠ the texts use; the style hint picks another sans face elsewhere.
    QFont f(u"DejaVu Sans"_s);
    f.setStyleHint(QFont::SansSerif);
    f.setPointSizeF(points * m_scale);
    f.setWeight(weight);
    f.setItalic(italic);
    // No shaping for Latin text means no ligatures: an "ﬁ" glyph would make "difficult" or
    // "fidgety" unsearchable and garble copied text. Kerning is lost, which plain text can spare.
    f.setStyleStrategy(QFont::PreferNoShaping);
    return f;
}

qreal PageLayout::textHeight(const QFont &font, qreal width, const QString &text, int flags) const
{
    m_painter.setFont(font);
    return m_painter.boundingRect(QRectF(0, 0, width, 1e6), flags | Qt::TextWordWrap | Qt::AlignTop, text).height();
}

qreal PageLayout::text(qreal x, qreal y, qreal width, const QFont &font, const QColor &color, const QString &text,
                       int flags)
{
    const qreal height = textHeight(font, width, text, flags);
    if (m_draw) {
        m_painter.setFont(font);
        m_painter.setPen(color);
        m_painter.drawText(QRectF(x, y, width, height), flags | Qt::TextWordWrap | Qt::AlignTop, text);
    }
    return height;
}

void PageLayout::fillRect(const QRectF &rect, const QColor &fill)
{
    if (m_draw)
        m_painter.fillRect(rect, fill);
}

void PageLayout::frameRect(const QRectF &rect, const QColor &color, qreal width)
{
    if (!m_draw)
        return;
    m_painter.setPen(QPen(color, width, Qt::SolidLine, Qt::SquareCap, Qt::MiterJoin));
    m_painter.setBrush(Qt::NoBrush);
    // Keep the stroke inside the rectangle so neighbouring blocks do not overlap it.
    m_painter.drawRect(rect.adjusted(width / 2, width / 2, -width / 2, -width / 2));
}

void PageLayout::hLine(qreal y, qreal x1, qreal x2, const QColor &color, qreal width)
{
    if (!m_draw)
        return;
    m_painter.setPen(QPen(color, width, Qt::SolidLine, Qt::FlatCap));
    m_painter.drawLine(QPointF(x1, y), QPointF(x2, y));
}

bool PageLayout::run(const std::function<bool()> &isCanceled)
{
    m_footerTop = footer() - s(mm(4));
    m_y = m_page.top();
    header();
    identifiers();
    scoreBox();
    alertBox();
    if (!itemTable(isCanceled))
        return false;
    m_bodyBottom = m_y;
    return true;
}

qreal PageLayout::footer()
{
    const qreal left = m_page.left();
    const qreal width = m_page.width();
    const QFont small = font(7.5);
    const QFont tiny = font(6.5);

    const QString copyright = m_in.questionnaire.copyright;
    const qreal copyrightHeight = copyright.isEmpty() ? 0 : textHeight(tiny, width, copyright);
    const QString generatedIso = m_in.generatedAt.isEmpty() ? toIsoUtc(Clock::system()->nowUtc()) : m_in.generatedAt;
    const QString generated = u"Generated "_s + utcText(generatedIso) + u" by SiteRelay "_s +
                              QStringLiteral(SITERELAY_VERSION) + u" · Confidential: trial participant data"_s;
    const QString pageText = u"Page 1 of 1"_s;
    const qreal lineHeight = textHeight(small, width, generated);

    const qreal gap = s(mm(1.2));
    const qreal top = m_page.bottom() - copyrightHeight - (copyright.isEmpty() ? 0 : gap) - lineHeight - s(mm(1.5));
    hLine(top, left, m_page.right(), ruleColor, pt(0.6));
    qreal y = top + s(mm(1.5));
    const qreal pageWidth = s(mm(25));
    text(left, y, width - pageWidth, small, mutedColor, generated);
    text(m_page.right() - pageWidth, y, pageWidth, small, mutedColor, pageText, Qt::AlignRight);
    y += lineHeight + gap;
    if (!copyright.isEmpty())
        text(left, y, width, tiny, mutedColor, copyright);
    return top;
}

void PageLayout::header()
{
    const qreal left = m_page.left();
    const qreal width = m_page.width();
    const QFont kicker = font(8.5, QFont::Bold);

    // The site name sits top right when there is one; the kicker never collides with it because
    // each gets half the width.
    qreal kickerHeight = text(left, m_y, width / 2, kicker, mutedColor, u"SiteRelay ePRO summary"_s);
    if (!m_in.siteName.isEmpty())
        kickerHeight = qMax(kickerHeight,
                            text(left + width / 2, m_y, width / 2, kicker, mutedColor, m_in.siteName, Qt::AlignRight));
    m_y += kickerHeight + s(mm(1));

    m_y += text(left, m_y, width, font(16, QFont::Bold), inkColor, m_in.questionnaire.title);
    m_y += s(mm(0.6));
    QString subtitle = u"Version "_s + m_in.questionnaire.version + u"  ·  questionnaire id "_s + m_in.questionnaire.id;
    // Scores are only comparable within one definition version; say so when they differ.
    if (!m_in.score.questionnaireVersion.isEmpty() && m_in.score.questionnaireVersion != m_in.questionnaire.version)
        subtitle += u"  ·  scored with version "_s + m_in.score.questionnaireVersion;
    m_y += text(left, m_y, width, font(8.5), mutedColor, subtitle);
    m_y += s(mm(2));
    hLine(m_y, left, m_page.right(), inkColor, pt(1.2));
    m_y += s(mm(3));
}

void PageLayout::identifiers()
{
    struct Cell
    {
        QString label;
        QString value;
        qreal share; // of the page width
    };
    const auto orDash = [](const QString &value) { return value.isEmpty() ? u"—"_s : value; };
    const QList<QList<Cell>> rows = {
        {{u"Patient ID"_s, orDash(m_in.patientId), 0.28},
         {u"Trial ID"_s, orDash(m_in.trialId), 0.28},
         {u"Device"_s, orDash(m_in.deviceName), 0.44}},
        {{u"Submission ID"_s, orDash(m_in.submissionId), 0.44},
         {u"Completed at (UTC)"_s, utcText(m_in.completedAt), 0.28},
         {u"Received at (UTC)"_s, utcText(m_in.receivedAt), 0.28}},
    };
    const QFont label = font(7, QFont::Bold);
    // Sized so a UUID and "2024-05-06 09:41:12 UTC" each fit on one line.
    const QFont value = font(9);
    const QFont idValue = font(9, QFont::Bold);
    const qreal gutter = s(mm(3));
    for (const QList<Cell> &row : rows) {
        qreal x = m_page.left();
        qreal rowHeight = 0;
        for (const Cell &cell : row) {
            const qreal width = m_page.width() * cell.share - gutter;
            qreal h = text(x, m_y, width, label, mutedColor, cell.label.toUpper());
            h += s(mm(0.5));
            const bool key = cell.label == u"Patient ID"_s;
            h += text(x, m_y + h, width, key ? idValue : value, inkColor, cell.value);
            rowHeight = qMax(rowHeight, h);
            x += m_page.width() * cell.share;
        }
        m_y += rowHeight + s(mm(2.2));
    }
    m_y += s(mm(1));
}

void PageLayout::scoreBox()
{
    const ScoreResult &score = m_in.score;
    const qreal pad = s(mm(3.5));
    const QRectF outer(m_page.left(), m_y, m_page.width(), 0);
    const qreal innerLeft = outer.left() + pad;
    const qreal innerWidth = outer.width() - 2 * pad;
    const qreal totalWidth = s(mm(58));
    const QFont label = font(7, QFont::Bold);

    // Measure first: the fill goes under the text, so the box height must be known before drawing.
    auto content = [&](bool paint) {
        const bool saved = m_draw;
        m_draw = saved && paint;
        qreal y = m_y + pad;
        qreal left = text(innerLeft, y, totalWidth, label, mutedColor, u"TOTAL SCORE"_s);
        left += text(innerLeft, y + left, totalWidth, font(24, QFont::Bold), inkColor,
                     QString::number(score.total) + u" / "_s + QString::number(score.maxTotal));
        left += text(innerLeft, y + left, totalWidth, font(7.5), mutedColor,
                     u"Possible range "_s + QString::number(m_in.questionnaire.scoring.min) + u"–"_s +
                         QString::number(m_in.questionnaire.scoring.max) + u", sum of scored items"_s);

        const qreal bandLeft = innerLeft + totalWidth + s(mm(4));
        const qreal bandWidth = innerLeft + innerWidth - bandLeft;
        qreal right = text(bandLeft, y, bandWidth, label, mutedColor, u"SEVERITY BAND"_s);
        right += text(bandLeft, y + right, bandWidth, font(15, QFont::Bold), inkColor,
                      score.bandLabel.isEmpty() ? u"—"_s : score.bandLabel);
        right += s(mm(1.5));

        // The published bands as a scale; the patient's band is filled dark, bold, and marked with
        // a triangle, so it reads without colour.
        const QList<ScoreBand> &bands = m_in.questionnaire.scoring.bands;
        if (!bands.isEmpty()) {
            const qreal segment = bandWidth / bands.size();
            const qreal segPad = s(mm(1));
            qreal segHeight = 0;
            for (const ScoreBand &band : bands) {
                const bool current = band.id == score.bandId;
                const QString range = QString::number(band.min) + u"–"_s + QString::number(band.max);
                const qreal h = textHeight(font(7.5, QFont::Bold), segment - 2 * segPad, range) +
                                textHeight(font(6.5, current ? QFont::Bold : QFont::Normal), segment - 2 * segPad,
                                           (current ? u"▲ "_s : QString()) + band.label);
                segHeight = qMax(segHeight, h);
            }
            segHeight += 2 * segPad;
            qreal x = bandLeft;
            for (const ScoreBand &band : bands) {
                const bool current = band.id == score.bandId;
                const QRectF rect(x, y + right, segment, segHeight);
                fillRect(rect, current ? inkColor : QColor(Qt::white));
                frameRect(rect, current ? inkColor : ruleColor, pt(0.6));
                const QColor color = current ? QColor(Qt::white) : mutedColor;
                const QString range = QString::number(band.min) + u"–"_s + QString::number(band.max);
                const qreal h = text(x + segPad, rect.top() + segPad, segment - 2 * segPad, font(7.5, QFont::Bold),
                                     current ? QColor(Qt::white) : inkColor, range);
                text(x + segPad, rect.top() + segPad + h, segment - 2 * segPad,
                     font(6.5, current ? QFont::Bold : QFont::Normal), color,
                     (current ? u"▲ "_s : QString()) + band.label);
                x += segment;
            }
            right += segHeight;
        }
        m_draw = saved;
        return qMax(left, right) + 2 * pad;
    };

    const qreal height = content(false);
    const QRectF box(outer.left(), m_y, outer.width(), height);
    fillRect(box, shadeColor);
    frameRect(box, inkColor, pt(1.2));
    content(true);
    m_y += height + s(mm(3.5));
}

void PageLayout::alertBox()
{
    const QList<TriggeredAlert> &alerts = m_in.score.alerts;
    if (alerts.isEmpty()) {
        m_y +=
            text(m_page.left(), m_y, m_page.width(), font(8), mutedColor, u"No alert rule fired for these answers."_s);
        m_y += s(mm(3.5));
        return;
    }

    const qreal border = pt(2.5);
    const qreal pad = s(mm(3)) + border;
    const qreal innerLeft = m_page.left() + pad;
    const qreal innerWidth = m_page.width() - 2 * pad;
    const qreal tagWidth = s(mm(22));

    auto content = [&](bool paint) {
        const bool saved = m_draw;
        m_draw = saved && paint;
        qreal y = m_y + pad;
        y += text(innerLeft, y, innerWidth, font(11, QFont::Bold), alertColor,
                  u"⚠ Safety alert — requires coordinator review"_s);
        y += s(mm(1.5));
        for (const TriggeredAlert &alert : alerts) {
            const QuestionnaireItem *item = m_in.questionnaire.item(alert.itemId);
            const qsizetype index = item ? std::distance(m_in.questionnaire.items.constData(), item) : -1;
            const ResponseOption *option = item ? item->option(alert.value) : nullptr;
            QString trigger = u"Triggered by "_s +
                              (index >= 0 ? u"item "_s + QString::number(index + 1) : alert.itemId) + u" answered "_s +
                              QString::number(alert.value);
            if (option)
                trigger += u" (“"_s + option->label + u"”)"_s;
            trigger += u"."_s;

            const QFont tagFont = font(8, QFont::Bold);
            const qreal tagHeight = textHeight(tagFont, tagWidth, alert.severity.toUpper()) + s(mm(1));
            const QRectF tag(innerLeft, y, tagWidth - s(mm(3)), tagHeight);
            frameRect(tag, alertColor, pt(1));
            text(tag.left(), tag.top() + s(mm(0.5)), tag.width(), tagFont, alertColor, alert.severity.toUpper(),
                 Qt::AlignHCenter);
            const qreal messageLeft = innerLeft + tagWidth;
            const qreal messageWidth = innerWidth - tagWidth;
            qreal h = text(messageLeft, y, messageWidth, font(9, QFont::Bold), inkColor, alert.message);
            h += s(mm(0.6));
            h += text(messageLeft, y + h, messageWidth, font(7.5), mutedColor, trigger);
            y += qMax(h, tagHeight) + s(mm(1.5));
        }
        m_draw = saved;
        return y - s(mm(1.5)) + pad - m_y;
    };

    const qreal height = content(false);
    const QRectF box(m_page.left(), m_y, m_page.width(), height);
    fillRect(box, alertFillColor);
    frameRect(box, alertColor, border);
    content(true);
    m_y += height + s(mm(3.5));
}

bool PageLayout::itemTable(const std::function<bool()> &isCanceled)
{
    const Questionnaire &q = m_in.questionnaire;
    const qreal left = m_page.left();
    const qreal right = m_page.right();

    if (!q.instructions.isEmpty()) {
        m_y += text(left, m_y, m_page.width(), font(7, QFont::Bold), mutedColor, u"INSTRUCTIONS TO THE PATIENT"_s);
        m_y += s(mm(0.5));
        m_y += text(left, m_y, m_page.width(), font(10, QFont::Normal, true), inkColor, q.instructions);
        m_y += s(mm(2.5));
    }

    const qreal padX = s(mm(1.8));
    const qreal padY = s(mm(1.9));
    const qreal numberWidth = s(mm(9));
    const qreal valueWidth = s(mm(17));
    const qreal answerWidth = s(mm(52));
    const qreal itemWidth = m_page.width() - numberWidth - answerWidth - valueWidth;
    const qreal xNumber = left;
    const qreal xItem = xNumber + numberWidth;
    const qreal xAnswer = xItem + itemWidth;
    const qreal xValue = xAnswer + answerWidth;

    const auto row = [&](const QFont &font, const QColor &color, const QString &number, const QString &itemText,
                         const QString &answer, const QString &value, const QString &note, const QFont &noteFont,
                         bool measureOnly) {
        const bool saved = m_draw;
        m_draw = saved && !measureOnly;
        const qreal y = m_y + padY;
        qreal h = text(xNumber + padX, y, numberWidth - 2 * padX, font, color, number);
        h = qMax(h, text(xItem + padX, y, itemWidth - 2 * padX, font, color, itemText));
        qreal a = text(xAnswer + padX, y, answerWidth - 2 * padX, font, color, answer);
        if (!note.isEmpty())
            a += text(xAnswer + padX, y + a, answerWidth - 2 * padX, noteFont, color, note);
        h = qMax(h, a);
        h = qMax(h, text(xValue + padX, y, valueWidth - 2 * padX, font, color, value, Qt::AlignRight));
        m_draw = saved;
        return h + 2 * padY;
    };

    // Header row.
    const QFont headFont = font(7.5, QFont::Bold);
    const qreal headHeight = row(headFont, mutedColor, u"#"_s, u"ITEM"_s, u"ANSWER"_s, u"SCORE"_s, {}, headFont, true);
    fillRect(QRectF(left, m_y, m_page.width(), headHeight), shadeColor);
    row(headFont, mutedColor, u"#"_s, u"ITEM"_s, u"ANSWER"_s, u"SCORE"_s, {}, headFont, false);
    m_y += headHeight;
    hLine(m_y, left, right, inkColor, pt(0.8));

    const QFont cellFont = font(9.5);
    const QFont noteFont = font(7.5, QFont::Bold);
    for (qsizetype i = 0; i < q.items.size(); ++i) {
        const QuestionnaireItem &item = q.items.at(i);
        const std::optional<int> value = intAnswer(m_in.answers.value(item.id));
        QString answer;
        QString valueText;
        QString note;
        bool alerted = false;
        if (!m_in.answers.contains(item.id)) {
            answer = u"Not answered"_s;
            valueText = u"—"_s;
        } else if (!value) {
            answer = u"Unreadable answer"_s;
            valueText = u"?"_s;
        } else {
            const ResponseOption *option = item.option(*value);
            answer = option ? option->label : u"Unknown option"_s;
            valueText = QString::number(*value);
            for (const TriggeredAlert &alert : m_in.score.alerts)
                alerted = alerted || alert.itemId == item.id;
        }
        if (!item.scored)
            note = u"Not scored"_s;
        if (alerted)
            note = note.isEmpty() ? u"⚠ SAFETY ALERT"_s : note + u" · ⚠ SAFETY ALERT"_s;

        const QString number = QString::number(i + 1);
        const qreal height = row(cellFont, inkColor, number, item.text, answer, valueText, note, noteFont, true);
        const QRectF rect(left, m_y, m_page.width(), height);
        if (alerted)
            fillRect(rect, alertFillColor);
        else if (i % 2 == 1)
            fillRect(rect, zebraColor);
        if (alerted)
            fillRect(QRectF(left, m_y, pt(3), height), alertColor);
        row(cellFont, inkColor, number, item.text, answer, valueText, note, noteFont, false);
        m_y += height;
        hLine(m_y, left, right, ruleColor, pt(0.5));

        if (m_draw && isCanceled && isCanceled())
            return false;
    }

    // Total row, repeated from the score box so the table stands on its own.
    const QFont totalFont = font(9.5, QFont::Bold);
    const QString total = QString::number(m_in.score.total) + u" / "_s + QString::number(m_in.score.maxTotal);
    const qreal totalHeight = row(totalFont, inkColor, {}, u"Total of scored items"_s, {}, total, {}, totalFont, true);
    row(totalFont, inkColor, {}, u"Total of scored items"_s, {}, total, {}, totalFont, false);
    m_y += totalHeight;
    hLine(m_y, left, right, inkColor, pt(0.8));
    return true;
}

Expected<RenderedReport> writeAtomically(const QString &path, const QByteArray &bytes,
                                         const std::function<bool()> &isCanceled)
{
    const auto failed = [&](const QString &what) {
        return Error{ErrorCode::StorageUnavailable,
                     what + u" Check that the data folder is writable and the disk is not full, then retry."_s,
                     QString(), u"write_failed"_s};
    };
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        return failed(u"Could not create the report folder %1."_s.arg(QDir::toNativeSeparators(info.absolutePath())));

    // Checked before the QSaveFile exists so that a cancelled render never leaves a temp file.
    if (isCanceled && isCanceled())
        return cancelled();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return failed(
            u"Could not open the report %1 for writing: %2."_s.arg(QDir::toNativeSeparators(path), file.errorString()));
    if (file.write(bytes) != bytes.size())
        return failed(u"Could not write the report %1: %2."_s.arg(QDir::toNativeSeparators(path), file.errorString()));
    if (isCanceled && isCanceled()) {
        file.cancelWriting(); // the destructor removes the temporary file
        return cancelled();
    }
    if (!file.commit())
        return failed(u"Could not save the report %1: %2."_s.arg(QDir::toNativeSeparators(path), file.errorString()));

    return RenderedReport{path, QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex(), bytes.size()};
}

} // namespace

Expected<RenderedReport> ReportRenderer::render(const ReportInput &input, const QString &path,
                                                const std::function<bool()> &isCanceled)
{
    if (isCanceled && isCanceled())
        return cancelled();
    // Fonts and painting need the GUI platform plugin ("offscreen" when there is no display);
    // without it QPdfWriter would abort the process instead of failing.
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance()))
        return Error{ErrorCode::Internal,
                     u"Cannot render reports without a QGuiApplication; start SiteRelay with the offscreen platform "
                     u"(QT_QPA_PLATFORM=offscreen)."_s,
                     QString(), u"no_gui_application"_s};

    // Rendered into memory first: the file is only opened once the PDF is complete, so a
    // cancellation or failure part-way leaves nothing on disk, and the hash is of exactly the
    // bytes that are written.
    QByteArray bytes;
    {
        QBuffer buffer(&bytes);
        buffer.open(QIODevice::WriteOnly);
        QPdfWriter writer(&buffer);
        writer.setResolution(Dpi);
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(15, 13, 15, 11),
                                         QPageLayout::Millimeter));
        writer.setTitle(input.questionnaire.shortTitle + u" summary, submission "_s + input.submissionId);
        writer.setCreator(u"SiteRelay "_s + QStringLiteral(SITERELAY_VERSION));

        QPainter painter;
        if (!painter.begin(&writer))
            return Error{ErrorCode::Internal, u"Could not start painting the report PDF."_s, QString(),
                         u"render_failed"_s};
        painter.setRenderHint(QPainter::Antialiasing);
        const QRectF page(0, 0, writer.width(), writer.height());

        // Shrink everything in steps until it fits; PHQ-9 and GAD-7 fit at full size, long
        // custom questionnaires get smaller type rather than a second page.
        // Below 55 % body text gets smaller than 5.5 pt, too small to read on paper.
        constexpr int minimumPercent = 55;
        qreal scale = 1.0;
        for (int percent = 100; percent >= minimumPercent; percent -= 5) {
            scale = percent / 100.0;
            PageLayout measure(painter, page, input, scale, false);
            measure.run({});
            if (measure.fits())
                break;
        }
        if (isCanceled && isCanceled())
            return cancelled();

        PageLayout layout(painter, page, input, scale, true);
        if (!layout.run(isCanceled))
            return cancelled();
        if (!layout.fits())
            qCWarning(lcEngine) << "Report content overflows one page even at" << scale << "of full size";
        if (!painter.end())
            return Error{ErrorCode::Internal, u"Could not finish the report PDF."_s, QString(), u"render_failed"_s};
    }

    return writeAtomically(path, bytes, isCanceled);
}

QString ReportRenderer::reportPath(const QString &dataDir, const QString &submissionId, const QString &receivedAt)
{
    QString safeId = submissionId;
    for (QChar &c : safeId) {
        const bool allowed = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') ||
                             c == u'-' || c == u'_' || c == u'.';
        if (!allowed)
            c = u'_';
    }
    const QDateTime received = QDateTime::fromString(receivedAt, Qt::ISODateWithMs);
    const QString folder = received.isValid() ? received.toUTC().toString(u"yyyy/MM"_s) : u"undated"_s;
    return QDir(dataDir).filePath(u"reports/"_s + folder + u'/' + safeId + u".pdf"_s);
}

} // namespace SiteRelay
