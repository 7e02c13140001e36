#include "scoretrendchart.h"

#include "questionnaire.h"

#include <QAreaSeries>
#include <QChart>
#include <QDateTimeAxis>
#include <QGraphicsSimpleTextItem>
#include <QLegendMarker>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {
namespace {

// Bands from least to most severe, light tints of a sequential Okabe–Ito ramp; each is named in the
// legend too.
QColor bandColor(int index, int count)
{
    static const QColor ramp[] = {QColor(0x00, 0x9E, 0x73), QColor(0xF0, 0xE4, 0x42), QColor(0xE6, 0x9F, 0x00),
                                  QColor(0xD5, 0x5E, 0x00), QColor(0xCC, 0x79, 0xA7)};
    constexpr int rampSize = int(std::size(ramp));
    const int at = count <= 1 ? 0 : qRound(double(index) * (rampSize - 1) / (count - 1));
    QColor color = ramp[qBound(0, at, rampSize - 1)];
    color.setAlpha(70);
    return color;
}

} // namespace

ScoreTrendChart::ScoreTrendChart(QWidget *parent)
    : QChartView(parent)
{
    setObjectName(u"scoreTrendChart"_s);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(260);
    chart()->setMargins(QMargins(4, 4, 4, 4));
    chart()->legend()->setAlignment(Qt::AlignBottom);
    connect(chart(), &QChart::plotAreaChanged, this, &ScoreTrendChart::placeBandLabels);
    QFont legendFont = chart()->legend()->font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    chart()->legend()->setFont(legendFont);
    chart()->setTitle(tr("Score over time"));
    setToolTip(tr("The patient's totals on this questionnaire, over its severity bands"));
}

void ScoreTrendChart::clear()
{
    for (const BandLabel &label : std::as_const(m_bandLabels))
        delete label.item;
    m_bandLabels.clear();
    chart()->removeAllSeries();
    for (QAbstractAxis *axis : chart()->axes())
        chart()->removeAxis(axis);
    m_points = 0;
    m_bands = 0;
}

void ScoreTrendChart::setHistory(const Questionnaire *questionnaire, const QList<ScorePoint> &history,
                                 const QString &currentId)
{
    clear();
    if (!questionnaire)
        return;
    QList<ScorePoint> points;
    for (const ScorePoint &point : history) {
        if (point.questionnaireId == questionnaire->id && point.completedAtUtc.isValid())
            points.append(point);
    }
    chart()->setTitle(tr("%1 score over time")
                          .arg(questionnaire->shortTitle.isEmpty() ? questionnaire->title : questionnaire->shortTitle));
    QDateTime first = points.isEmpty() ? QDateTime::currentDateTimeUtc() : points.first().completedAtUtc;
    QDateTime last = points.isEmpty() ? first : points.last().completedAtUtc;
    // A little room either side, and a day's width for a single point.
    const qint64 span = qMax<qint64>(first.msecsTo(last), 24 * 3600 * 1000);
    first = first.addMSecs(-span / 20);
    last = last.addMSecs(span / 20);

    auto *xAxis = new QDateTimeAxis(chart());
    xAxis->setFormat(span > 7LL * 24 * 3600 * 1000 ? u"yyyy-MM-dd"_s : u"MM-dd HH:mm"_s);
    xAxis->setRange(first.toLocalTime(), last.toLocalTime());
    xAxis->setTickCount(5);
    auto *yAxis = new QValueAxis(chart());
    yAxis->setRange(questionnaire->scoring.min, questionnaire->scoring.max);
    yAxis->setLabelFormat(u"%d"_s);
    yAxis->setTitleText(tr("Total"));
    chart()->addAxis(xAxis, Qt::AlignBottom);
    chart()->addAxis(yAxis, Qt::AlignLeft);

    const auto &bands = questionnaire->scoring.bands;
    for (int i = 0; i < bands.size(); ++i) {
        const ScoreBand &band = bands.at(i);
        auto *lower = new QLineSeries(chart());
        auto *upper = new QLineSeries(chart());
        // Bands are inclusive integer ranges; shade from min-0.5 to max+0.5 so they touch.
        const qreal low = qMax<qreal>(questionnaire->scoring.min, band.min - 0.5);
        const qreal high = qMin<qreal>(questionnaire->scoring.max, band.max + 0.5);
        for (const QDateTime &x : {first, last}) {
            lower->append(x.toMSecsSinceEpoch(), low);
            upper->append(x.toMSecsSinceEpoch(), high);
        }
        auto *area = new QAreaSeries(upper, lower);
        area->setName(u"%1 (%2–%3)"_s.arg(band.label).arg(band.min).arg(band.max));
        area->setColor(bandColor(i, int(bands.size())));
        area->setBorderColor(Qt::transparent);
        chart()->addSeries(area);
        area->attachAxis(xAxis);
        area->attachAxis(yAxis);
        for (QLegendMarker *marker : chart()->legend()->markers(area))
            marker->setVisible(false);
        auto *label = new QGraphicsSimpleTextItem(u"%1 (%2–%3)"_s.arg(band.label).arg(band.min).arg(band.max), chart());
        QFont font = label->font();
        font.setPointSizeF(font.pointSizeF() * 0.8);
        label->setFont(font);
        label->setBrush(QColor(0x40, 0x40, 0x40));
        label->setZValue(10);
        m_bandLabels.append(BandLabel{label, (low + high) / 2});
        ++m_bands;
    }

    auto *line = new QLineSeries(chart());
    line->setName(tr("Total"));
    line->setPen(QPen(Qt::black, 2));
    line->setPointsVisible(true);
    auto *current = new QScatterSeries(chart());
    current->setName(tr("This submission"));
    current->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    current->setMarkerSize(12);
    current->setColor(QColor(0x00, 0x72, 0xB2));
    for (const ScorePoint &point : std::as_const(points)) {
        line->append(point.completedAtUtc.toMSecsSinceEpoch(), point.total);
        if (point.submissionId == currentId)
            current->append(point.completedAtUtc.toMSecsSinceEpoch(), point.total);
    }
    m_points = int(points.size());
    chart()->addSeries(line);
    line->attachAxis(xAxis);
    line->attachAxis(yAxis);
    chart()->addSeries(current);
    current->attachAxis(xAxis);
    current->attachAxis(yAxis);
    placeBandLabels();
}

void ScoreTrendChart::placeBandLabels()
{
    const QRectF plot = chart()->plotArea();
    for (const BandLabel &label : std::as_const(m_bandLabels)) {
        const QPointF at = chart()->mapToPosition(QPointF(0, label.middle), chart()->series().constFirst());
        const QRectF box = label.item->boundingRect();
        label.item->setPos(plot.left() + 4, at.y() - box.height() / 2);
    }
}

} // namespace SiteRelay
