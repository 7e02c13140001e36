#include "questionnairecatalog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

namespace {

Expected<Questionnaire> loadFile(const QString &path)
{
    const QString name = QFileInfo(path).fileName();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error::invalid(QString(), name + u": cannot read: "_s + file.errorString());

    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return Error::invalid(QString(), name + u": invalid JSON at byte "_s + QString::number(parseError.offset) +
                                             u": "_s + parseError.errorString());
    if (!document.isObject())
        return Error::invalid(QString(), name + u": the definition must be a JSON object"_s);

    Expected<Questionnaire> questionnaire = Questionnaire::fromJson(document.object());
    if (!questionnaire)
        return Error::invalid(questionnaire.error().field, name + u": "_s + questionnaire.error().message);

    // Tying the id to the file name keeps ids unique and lets a data manager find the file.
    const QString expectedId = QFileInfo(path).completeBaseName();
    if (questionnaire->id != expectedId)
        return Error::invalid(u"id"_s, name + u": id '"_s + questionnaire->id +
                                           u"' does not match the file name (expected '"_s + expectedId + u"')"_s);
    return questionnaire;
}

} // namespace

Expected<QuestionnaireCatalog> QuestionnaireCatalog::loadBuiltIn()
{
    Expected<QuestionnaireCatalog> catalog = loadFromDirectory(u":/questionnaires"_s);
    if (!catalog)
        return Error{ErrorCode::Internal, u"built-in questionnaire definitions: "_s + catalog.error().message,
                     catalog.error().field};
    return catalog;
}

Expected<QuestionnaireCatalog> QuestionnaireCatalog::loadFromDirectory(const QString &directory)
{
    const QDir dir(directory);
    if (!dir.exists())
        return Error::invalid(QString(), directory + u": no such directory"_s);
    const QStringList names = dir.entryList({u"*.json"_s}, QDir::Files, QDir::Name);
    if (names.isEmpty())
        return Error::invalid(QString(), directory + u": no questionnaire definitions (*.json)"_s);

    QuestionnaireCatalog catalog;
    catalog.m_questionnaires.reserve(static_cast<size_t>(names.size()));
    for (const QString &name : names) {
        Expected<Questionnaire> questionnaire = loadFile(dir.filePath(name));
        if (!questionnaire)
            return questionnaire.error();
        catalog.m_questionnaires.push_back(std::move(questionnaire).value());
    }
    return catalog;
}

const Questionnaire *QuestionnaireCatalog::find(const QString &id) const
{
    const auto it = std::find_if(m_questionnaires.begin(), m_questionnaires.end(),
                                 [&id](const Questionnaire &q) { return q.id == id; });
    return it == m_questionnaires.end() ? nullptr : &*it;
}

QStringList QuestionnaireCatalog::ids() const
{
    QStringList result;
    result.reserve(static_cast<qsizetype>(m_questionnaires.size()));
    for (const Questionnaire &q : m_questionnaires)
        result.append(q.id);
    return result;
}

QJsonArray QuestionnaireCatalog::toJson() const
{
    QJsonArray result;
    for (const Questionnaire &q : m_questionnaires)
        result.append(q.toJson());
    return result;
}

} // namespace SiteRelay
