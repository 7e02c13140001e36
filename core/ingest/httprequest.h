#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QUrlQuery>

namespace SiteRelay {

/// A request as the ingest routes see it: a plain value, independent of QtHttpServer's types.
struct HttpRequest
{
    QByteArray method; ///< upper case, e.g. "POST"
    QString path;      ///< decoded path, e.g. "/api/v1/submissions/abc"
    QUrlQuery query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QHostAddress peer;

    /// The first header of that name (case-insensitive), or empty.
    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers) {
            if (QByteArrayView(key).compare(name, Qt::CaseInsensitive) == 0)
                return value;
        }
        return {};
    }
    bool fromLoopback() const { return peer.isLoopback(); }
};

} // namespace SiteRelay
