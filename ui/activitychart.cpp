#include "activitychart.h"

#include "statestyle.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QChart>
#include <QStackedBarSeries>
#include <QValueAxis>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

ActivityChart::ActivityChart(QWidget *parent)
    : QChartView(parent)
{
    setObjectName(u"activityChart"_s);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(190);
    setToolTip(tr("Submissions received per hour today, by their state now"));
    QChart *chart = this->chart();
    chart->setTitle(tr("Today, per hour"));
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignRight);
    QFont legendFont = chart->legend()->font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    chart->legend()->setFont(legendFont);
    chart->setAnimationOptions(QChart::NoAnimation);

    auto *series = new QStackedBarSeries(chart);
    series->setBarWidth(0.85);
    for (const QString &state : StateStyle::states()) {
        auto *set = new QBarSet(StateStyle::label(state), series);
        set->setColor(StateStyle::color(state));
        set->setBorderColor(StateStyle::color(state).darker(130));
        for (int hour = 0; hour < 24; ++hour)
            set->append(0);
        series->append(set);
        m_sets.insert(state, set);
    }
    chart->addSeries(series);
    auto *xAxis = new QBarCategoryAxis(chart);
    QStringList hours;
    for (int hour = 0; hour < 24; ++hour)
        hours.append(u"%1"_s.arg(hour, 2, 10, QChar(u'0')));
    xAxis->append(hours);
    m_yAxis = new QValueAxis(chart);
    m_yAxis->setLabelFormat(u"%d"_s);
    m_yAxis->setRange(0, 10);
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(m_yAxis, Qt::AlignLeft);
    series->attachAxis(xAxis);
    series->attachAxis(m_yAxis);
}

void ActivityChart::setActivity(const QList<HourActivity> &hours, const QDateTime &dayStartLocal)
{
    QHash<QString, QList<qreal>> values;
    for (const QString &state : StateStyle::states())
        values.insert(state, QList<qreal>(24, 0));
    QList<qreal> totals(24, 0);
    for (const HourActivity &hour : hours) {
        // Local hours: the UTC hour's start, counted from local midnight (whole-hour offsets).
        const int index = int(dayStartLocal.secsTo(hour.hourStartUtc) / 3600);
        if (index < 0 || index >= 24)
            continue;
        for (auto it = hour.byState.cbegin(); it != hour.byState.cend(); ++it) {
            auto found = values.find(it.key());
            if (found == values.end())
                continue;
            (*found)[index] += qreal(it.value());
            totals[index] += qreal(it.value());
        }
    }
    for (auto it = m_sets.cbegin(); it != m_sets.cend(); ++it) {
        const QList<qreal> &counts = values.value(it.key());
        for (int i = 0; i < 24; ++i) {
            if (it.value()->at(i) != counts.at(i))
                it.value()->replace(i, counts.at(i));
        }
    }
    const qreal peak = *std::max_element(totals.cbegin(), totals.cend());
    // A round upper bound that does not jump with every submission.
    qreal top = 10; // 10, 20, 50, 100, 200, 500, ...
    for (int step = 0; top < peak; ++step)
        top *= step % 3 == 1 ? 2.5 : 2;
    if (m_yAxis->max() != top)
        m_yAxis->setRange(0, top);
}

qint64 ActivityChart::count(int hour, const QString &state) const
{
    const QBarSet *set = m_sets.value(state);
    return set && hour >= 0 && hour < 24 ? qint64(set->at(hour)) : 0;
}

} // namespace SiteRelay
