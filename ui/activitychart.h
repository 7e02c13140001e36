#pragma once

#include "dashboardreader.h"

#include <QChartView>
#include <QHash>

class QBarSet;
class QBarCategoryAxis;
class QValueAxis;

namespace SiteRelay {

/**
 * Submissions received per hour today (local time), stacked by state in the state colours with the
 * state names in the legend. Updating changes bar values in place, so a refresh does not rebuild
 * the chart. GUI thread only.
 */
class ActivityChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ActivityChart)
public:
    explicit ActivityChart(QWidget *parent = nullptr);

    /// @p hours as read for today; @p dayStartLocal is the local midnight they count from.
    void setActivity(const QList<HourActivity> &hours, const QDateTime &dayStartLocal);
    /// Submissions counted in the local hour @p hour (0–23) and @p state (for tests).
    qint64 count(int hour, const QString &state) const;

private:
    QHash<QString, QBarSet *> m_sets;
    QValueAxis *m_yAxis = nullptr;
};

} // namespace SiteRelay
