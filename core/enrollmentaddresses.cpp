#include "enrollmentaddresses.h"

#include <QNetworkInterface>

using namespace Qt::Literals::StringLiterals;

namespace SiteRelay {

QList<QHostAddress> EnrollmentAddresses::lanAddresses(const QHostAddress &bindAddress)
{
    if (!bindAddress.isNull() && bindAddress != QHostAddress(QHostAddress::AnyIPv4) &&
        bindAddress != QHostAddress(QHostAddress::AnyIPv6) && bindAddress != QHostAddress(QHostAddress::Any))
        return {bindAddress};
    QList<QHostAddress> result;
    const auto interfaces = QNetworkInterface::allInterfaces();
    for (const QNetworkInterface &interface : interfaces) {
        const auto flags = interface.flags();
        if (!flags.testFlag(QNetworkInterface::IsUp) || !flags.testFlag(QNetworkInterface::IsRunning) ||
            flags.testFlag(QNetworkInterface::IsLoopBack))
            continue;
        const auto entries = interface.addressEntries();
        for (const QNetworkAddressEntry &entry : entries) {
            const QHostAddress address = entry.ip();
            // Tablets are given IPv4 addresses on clinic Wi-Fi; link-local ones change and confuse.
            if (address.protocol() == QAbstractSocket::IPv4Protocol && !address.isLinkLocal() &&
                !result.contains(address))
                result.append(address);
        }
    }
    return result;
}

QStringList EnrollmentAddresses::siteUrls(const QHostAddress &bindAddress, quint16 port)
{
    QStringList urls;
    const auto addresses = lanAddresses(bindAddress);
    for (const QHostAddress &address : addresses) {
        const QString host = address.protocol() == QAbstractSocket::IPv6Protocol ? u"[%1]"_s.arg(address.toString())
                                                                                 : address.toString();
        urls.append(u"http://%1:%2"_s.arg(host).arg(port));
    }
    if (urls.isEmpty())
        urls.append(u"http://127.0.0.1:%1"_s.arg(port));
    return urls;
}

} // namespace SiteRelay
