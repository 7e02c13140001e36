#pragma once

#include <QPointer>
#include <QSet>

#include <deque>

namespace SiteRelay {

class ProcessingAttempt;

/**
 * Lets at most `analysis/maxConcurrent` analysis calls be on their way at once; the others wait
 * here, holding no thread, in the order they became ready. Without it, calls beyond what Qt's
 * network manager sends in parallel to one host (six over HTTP/1.1) sat in its queue while their
 * timeout ran, and a service answering in 500 ms saw most calls time out before they were sent.
 * Engine thread only.
 */
class AnalysisGate
{
public:
    explicit AnalysisGate(int limit);

    /// Starts the attempt's call now if a slot is free, else when one frees up.
    void acquire(ProcessingAttempt *attempt);
    /// The attempt no longer needs its slot (or its place in the queue). Safe to call twice.
    void release(ProcessingAttempt *attempt);

    int active() const { return int(m_active.size()); }
    int waiting() const { return int(m_waiting.size()); }

private:
    int m_limit;
    QSet<ProcessingAttempt *> m_active;
    std::deque<QPointer<ProcessingAttempt>> m_waiting;
};

} // namespace SiteRelay
