// Asio and its SSL layer are compiled once, here (BOOST_ASIO_SEPARATE_COMPILATION),
// instead of in every file that includes them.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
