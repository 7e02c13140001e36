#pragma once

#include "expected.h"
#include "questionnaire.h"

#include <QJsonArray>
#include <QStringList>

#include <vector>

namespace SiteRelay {

/**
 * The questionnaires this site knows. Immutable once loaded, so threads may share a const one.
 */
class QuestionnaireCatalog
{
public:
    /// Loads every definition compiled into the binary (resources/questionnaires/*.json).
    static Expected<QuestionnaireCatalog> loadBuiltIn();

    const Questionnaire *find(const QString &id) const;
    QStringList ids() const;
    /// The definitions as served by GET /api/v1/questionnaires.
    QJsonArray toJson() const;

private:
    std::vector<Questionnaire> m_questionnaires;
};

} // namespace SiteRelay
