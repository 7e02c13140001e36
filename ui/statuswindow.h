#pragma once

#include <QLabel>
#include <QMainWindow>

namespace SiteRelay {

/**
 * The minimal main window shown when SiteRelay runs with a display: where the server listens,
 * where the data lives, and how many writes were committed. The full coordinator dashboard
 * replaces it. GUI thread only.
 */
class StatusWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusWindow)
public:
    StatusWindow(const QString &listenUrl, const QString &dataDir, QWidget *parent = nullptr);

public Q_SLOTS:
    /// Adds @p writes to the committed count (connect the store's committed signal, queued).
    void addCommittedWrites(int writes);

private:
    QLabel *m_committedLabel = nullptr;
    qint64 m_committed = 0;
};

} // namespace SiteRelay
