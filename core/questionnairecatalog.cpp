#include "questionnairecatalog.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

// Placeholder loader; the full one validates definitions.
Expected<QuestionnaireCatalog> QuestionnaireCatalog::loadBuiltIn()
{
    QuestionnaireCatalog catalog;
    const QDir dir(u":/questionnaires"_s);
    const QStringList names = dir.entryList({u"*.json"_s}, QDir::Files, QDir::Name);
    for (const QString &name : names) {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        auto parsed = Questionnaire::fromJson(QJsonDocument::fromJson(file.readAll()).object());
        if (parsed)
            catalog.m_questionnaires.push_back(parsed.value());
    }
    return catalog;
}

const Questionnaire *QuestionnaireCatalog::find(const QString &id) const
{
    for (const auto &q : m_questionnaires) {
        if (q.id == id)
            return &q;
    }
    return nullptr;
}

QStringList QuestionnaireCatalog::ids() const
{
    QStringList result;
    for (const auto &q : m_questionnaires)
        result.append(q.id);
    return result;
}

QJsonArray QuestionnaireCatalog::toJson() const
{
    QJsonArray result;
    for (const auto &q : m_questionnaires)
        result.append(q.definition);
    return result;
}

} // namespace SiteRelay
