#pragma once

#include "expected.h"
#include "questionnaire.h"

#include <QJsonArray>
#include <QStringList>

#include <vector>

namespace SiteRelay {

/**
 * The questionnaires this site knows, in file-name order. Immutable once loaded, so any number of
 * threads may share a const one; copying is cheap (implicitly shared Qt containers).
 */
class QuestionnaireCatalog
{
public:
    /**
     * Loads every definition compiled into the binary (the JSON files in resources/questionnaires,
     * served from ":/questionnaires"). A built-in definition that does not load is a bug in this build,
     * so any failure of loadFromDirectory() comes back as ErrorCode::Internal with the same
     * message (file name, JSON path, problem) and field; nothing is skipped.
     */
    static Expected<QuestionnaireCatalog> loadBuiltIn();

    /**
     * Loads every `*.json` file in @p directory (a file path or a Qt resource path). Each file
     * holds one definition whose `id` equals the file's base name ("phq9.json" → "phq9"), which
     * also keeps ids unique. Fails with InvalidArgument for a missing directory, a directory with
     * no definitions, an unreadable file, malformed JSON, a definition Questionnaire::fromJson()
     * rejects (its field is kept; the message is prefixed with the file name) or an id that does
     * not match its file name. All or nothing: one bad file fails the whole load.
     */
    static Expected<QuestionnaireCatalog> loadFromDirectory(const QString &directory);

    /// The definition with @p id (case-sensitive), or nullptr. Valid while this catalog lives.
    const Questionnaire *find(const QString &id) const;
    /// Every id, in file-name order.
    QStringList ids() const;
    /// The full definitions as served by GET /api/v1/questionnaires: one Questionnaire::toJson()
    /// per questionnaire, in ids() order.
    QJsonArray toJson() const;

private:
    std::vector<Questionnaire> m_questionnaires;
};

} // namespace SiteRelay
