#pragma once

#include <QFuture>
#include <QFutureWatcher>
#include <QObject>

#include <type_traits>
#include <utility>

namespace SiteRelay {

/**
 * Calls @p callback with the future's result (no argument for QFuture<void>) on @p context's
 * thread once @p future is finished; never if it was cancelled or @p context is destroyed first.
 * Call it on @p context's thread.
 *
 * Why not QFuture::then(context, ...): in Qt 6.4.2 a continuation attached while another thread
 * is finishing the future can run twice (seen here as a crash in the engine under load), and
 * cancelling a future whose continuation already ran follows a dangling pointer. QFutureWatcher
 * attaches under the future's own lock and replays a finished state, which makes it safe whatever
 * the timing.
 */
template <typename T, typename Callback>
void whenFinished(const QFuture<T> &future, QObject *context, Callback callback)
{
    auto *watcher = new QFutureWatcher<T>(context);
    QObject::connect(watcher, &QFutureWatcherBase::finished, watcher,
                     [watcher, callback = std::move(callback)]() mutable {
                         watcher->deleteLater();
                         const QFuture<T> finished = watcher->future();
                         if (finished.isCanceled())
                             return;
                         if constexpr (std::is_void_v<T>) {
                             callback();
                         } else {
                             if (finished.resultCount() > 0)
                                 callback(finished.result());
                         }
                     });
    watcher->setFuture(future);
}

} // namespace SiteRelay
