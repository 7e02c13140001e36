#include "questionnaire.h"

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

Expected<Questionnaire> Questionnaire::fromJson(const QJsonObject &object)
{
    return Questionnaire{object.value("id"_L1).toString(), object};
}

} // namespace SiteRelay
