#pragma once

#include "dashboardreader.h"

#include <QChartView>
#include <QList>

class QGraphicsSimpleTextItem;

namespace SiteRelay {

struct Questionnaire;

/**
 * A patient's totals on one questionnaire over time, drawn over the questionnaire's severity bands
 * (shaded and named in the legend, so the band is readable without telling colours apart). The
 * submission shown in the details pane is drawn larger. GUI thread only.
 */
class ScoreTrendChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScoreTrendChart)
public:
    explicit ScoreTrendChart(QWidget *parent = nullptr);

    /// Shows @p history's points for @p questionnaire (others are left out); highlights @p currentId.
    void setHistory(const Questionnaire *questionnaire, const QList<ScorePoint> &history, const QString &currentId);
    void clear();
    /// Points drawn (for tests).
    int pointCount() const { return m_points; }
    int bandCount() const { return m_bands; }

private:
    /// Band names sit inside their bands (left edge), which a legend entry cannot do as readably.
    void placeBandLabels();

    struct BandLabel
    {
        QGraphicsSimpleTextItem *item = nullptr;
        qreal middle = 0;
    };
    QList<BandLabel> m_bandLabels;
    int m_points = 0;
    int m_bands = 0;
};

} // namespace SiteRelay
