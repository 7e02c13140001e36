#include "submission.h"

#include <QCryptographicHash>
#include <QJsonDocument>

namespace SiteRelay {

QByteArray NewSubmission::answersJson() const
{
    return QJsonDocument(answers).toJson(QJsonDocument::Compact);
}

QByteArray NewSubmission::contentHash(const QByteArray &answersJson) const
{
    // QJsonObject keeps keys sorted, so the compact form of equal answers is byte-identical.
    QCryptographicHash hash(QCryptographicHash::Sha256);
    const auto field = [&hash](const QByteArray &bytes) {
        hash.addData(QByteArray::number(bytes.size()));
        hash.addData(QByteArrayView(":"));
        hash.addData(bytes);
    };
    field(QByteArray::number(deviceId));
    field(submissionId.toUtf8());
    field(patientId.toUtf8());
    field(trialId.toUtf8());
    field(questionnaireId.toUtf8());
    field(completedAt.toUtf8());
    field(answersJson);
    field(QByteArray::number(int(source)));
    return hash.result();
}

} // namespace SiteRelay
