import { DEFAULT_RATING_DIMENSIONS, ratingDimensionProblems, undeclaredDimensions } from './rating-dimensions';

describe('rating dimensions', () => {
  it('accepts the defaults and a project’s own names, refuses bad declarations', () => {
    expect(ratingDimensionProblems(DEFAULT_RATING_DIMENSIONS)).toEqual([]);
    expect(ratingDimensionProblems(['aesthetics', 'physics'])).toEqual([]);
    expect(ratingDimensionProblems([])).toHaveLength(1);
    expect(ratingDimensionProblems(['Visual Quality', 'overall', 'a', 'a']).join('; ')).toMatch(/snake_case.*overall.*twice/);
  });

  it('names each event whose dimension the project did not declare', () => {
    const events = [{ dimension: 'visual_quality' }, {}, { dimension: 'overall' }, { dimension: 'aesthetics' }, { dimension: null }];
    expect(undeclaredDimensions(events, DEFAULT_RATING_DIMENSIONS)).toEqual([
      { field: 'events[3].dimension', problems: [expect.stringContaining('"aesthetics" is not a rating dimension of this project')] },
    ]);
    expect(undeclaredDimensions(events, ['aesthetics', 'visual_quality'])).toEqual([]);
  });
});
