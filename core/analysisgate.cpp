#include "analysisgate.h"

#include "processingattempt.h"

#include <algorithm>

namespace SiteRelay {

AnalysisGate::AnalysisGate(int limit)
    : m_limit(qMax(1, limit))
{}

void AnalysisGate::acquire(ProcessingAttempt *attempt)
{
    if (int(m_active.size()) < m_limit) {
        m_active.insert(attempt);
        attempt->postAnalysis();
        return;
    }
    m_waiting.emplace_back(attempt);
}

void AnalysisGate::release(ProcessingAttempt *attempt)
{
    if (!m_active.remove(attempt)) {
        m_waiting.erase(std::remove(m_waiting.begin(), m_waiting.end(), QPointer<ProcessingAttempt>(attempt)),
                        m_waiting.end());
        return;
    }
    while (int(m_active.size()) < m_limit && !m_waiting.empty()) {
        QPointer<ProcessingAttempt> next = m_waiting.front();
        m_waiting.pop_front();
        if (!next)
            continue;
        m_active.insert(next.data());
        next->postAnalysis();
    }
}

} // namespace SiteRelay
