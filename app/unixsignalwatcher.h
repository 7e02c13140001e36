#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace SiteRelay {

/**
 * Turns SIGINT and SIGTERM into a Qt signal on the thread that created the watcher, through a
 * self-pipe: the handler only writes a byte, which is all a signal handler may safely do.
 */
class UnixSignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignalWatcher)
public:
    explicit UnixSignalWatcher(QObject *parent = nullptr);
    ~UnixSignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace SiteRelay
