#pragma once

#include "expected.h"

#include <QJsonObject>
#include <QString>

namespace SiteRelay {

/// Placeholder; the full definition model is being written.
struct Questionnaire
{
    QString id;
    QJsonObject definition;
    static Expected<Questionnaire> fromJson(const QJsonObject &object);
};

} // namespace SiteRelay
