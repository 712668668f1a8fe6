// Package region is the five-level hierarchy of places (市 → 区/县 → 街道/乡镇 → 社区/村 → 网格),
// their boundaries, and finding the grid a point falls in.
package region

// Service manages regions and grids and answers locate queries from a spatial index.
type Service struct{}
